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
async_playwright = pytest.importorskip("playwright.async_api").async_playwright


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
            await page.goto(f"{admin_server.url}/admin")
            assert page.url.endswith("/admin/login?next=/admin")
            await page.fill("input[name=token]", "a guess")
            await page.click("button[type=submit]")
            assert await page.locator(".error").inner_text() == "That is not the admin token."
            await page.fill("input[name=token]", TOKEN)
            await page.click("button[type=submit]")
            assert page.url == f"{admin_server.url}/admin"
            cookies = await page.context.cookies()
            assert [(c["name"], c["httpOnly"]) for c in cookies] == [("triad_admin", True)]

            workflows = page.locator("#workflow-list tbody tr")
            assert await workflows.count() == 2
            assert await page.locator('.count[data-name="dead"] b').inner_text() == "2"

            await page.click("text=octo/repo#12")
            assert page.url.endswith("/admin/workflows/octo/repo/12")
            causes = page.locator("svg.state-diagram g.transition")
            assert await causes.count() == 3
            assert await causes.nth(2).get_attribute("data-cause") == "DesignApproved"
            assert await page.locator('g.stage[data-stage="reviewing"]').is_visible()
            pr = page.locator("a", has_text="#13")
            assert await pr.get_attribute("href") == "https://github.com/octo/repo/pull/13"

            await page.goto(f"{admin_server.url}/admin#queue")
            await page.click(f'#dead-letters button[data-job="{dead}"]')
            assert await page.locator("#flash").inner_text() == f"Job {dead} queued again."
            assert await page.locator("#dead-letters tbody tr").count() == 1
            assert await page.locator('.count[data-name="dead"] b').inner_text() == "1"
        finally:
            await browser.close()
    job = await admin_server.store.get_job(dead)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0
