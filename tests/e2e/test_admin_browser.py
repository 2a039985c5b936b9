"""The admin page in headless Chromium over the real admin server: sign in, read the
workflows, open one's state diagram, and retry a dead letter with the page's button.

Needs Chromium at /usr/bin/chromium (Playwright's own browser download is not used):
`apt-get install -y chromium`, then `make test PYTEST_ARGS=tests/e2e/test_admin_browser.py`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from bot.metrics import Metrics
from bot.store import JobState, Store, open_store
from bot.web.app import create_admin_app
from bot.web.context import AppContext
from tests.ops.seed import Seeded, seed

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "browser-admin-token"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Chromium at /usr/bin/chromium: run `apt-get install -y "
    "chromium`, then `make test PYTEST_ARGS=tests/e2e/test_admin_browser.py`",
)
playwright_api = pytest.importorskip("playwright.async_api")
async_playwright, expect = playwright_api.async_playwright, playwright_api.expect


@dataclass
class AdminServer:
    url: str
    store: Store
    seeded: Seeded


@pytest.fixture
async def admin_server(tmp_path: Path) -> AsyncIterator[AdminServer]:
    async with open_store(f"sqlite:///{tmp_path / 'triad.db'}") as store:
        seeded = await seed(store)
        context = AppContext(store=store, metrics=Metrics(), webhook_secret="s", admin_token=TOKEN)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_admin_app(context), log_config=None, access_log=False)
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            assert not task.done(), "the admin server did not start"
            await asyncio.sleep(0.02)
        try:
            yield AdminServer(f"http://127.0.0.1:{port}", store, seeded)
        finally:
            server.should_exit = True
            await task


async def test_an_operator_signs_in_reads_a_workflow_and_retries_a_dead_letter(
    admin_server: AdminServer,
) -> None:
    dead = admin_server.seeded.dead_job
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await browser.new_page()
            url = admin_server.url
            # each step waits for what the page must show (navigations finish on their own time)
            await page.goto(f"{url}/admin")
            await expect(page).to_have_url(f"{url}/admin/login?next=/admin")
            await page.fill("input[name=token]", "a guess")
            await page.click("button[type=submit]")
            await expect(page.locator(".error")).to_have_text("That is not the admin token.")
            await page.fill("input[name=token]", TOKEN)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(f"{url}/admin")
            await expect(page.locator("#workflow-list tbody tr")).to_have_count(2)
            cookies = await page.context.cookies()
            assert [(c["name"], c["httpOnly"]) for c in cookies] == [("triad_admin", True)]
            await expect(page.locator('.count[data-name="dead"] b')).to_have_text("2")

            await page.click("text=octo/repo#12")
            await expect(page).to_have_url(f"{url}/admin/workflows/octo/repo/12")
            causes = page.locator("svg.state-diagram g.transition")
            await expect(causes).to_have_count(3)
            await expect(causes.nth(2)).to_have_attribute("data-cause", "DesignApproved")
            await expect(page.locator('g.stage[data-stage="reviewing"]')).to_be_visible()
            pr = page.locator("a", has_text="#13")
            await expect(pr).to_have_attribute("href", "https://github.com/octo/repo/pull/13")

            await page.goto(f"{url}/admin#queue")
            await page.click(f'#dead-letters button[data-job="{dead}"]')
            await expect(page.locator("#flash")).to_have_text(f"Job {dead} queued again.")
            await expect(page.locator("#dead-letters tbody tr")).to_have_count(1)
            await expect(page.locator('.count[data-name="dead"] b')).to_have_text("1")
        finally:
            await browser.close()
    job = await admin_server.store.get_job(dead)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0
