"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

Playwright's own browser download cannot work here, so it launches /usr/bin/chromium. Without
it the tests skip, saying how to run them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("TRIAD_CHROMIUM", "/usr/bin/chromium"))
SKIP = (
    f"browser tests need Chromium at {CHROMIUM}: `apt-get install -y chromium` "
    "(.ci/run installs it), then `make test`"
)
#: TRIAD_SCREENSHOTS=docs writes the README's screenshots there
SCREENSHOTS = os.environ.get("TRIAD_SCREENSHOTS")

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP)


@asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(90_000)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Any, name: str, fallback: Path) -> None:
    """Keep a screenshot: in SCREENSHOTS (the README's) when asked, else beside the test."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else fallback
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / name), full_page=False)
