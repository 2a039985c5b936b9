"""The playground in a real browser: a person drives a whole workflow by clicks and typing —
label, answer the architect's question, approve, CI red then green, the reviewers disagree,
decide, pass QA — and sees it live, with Markdown escaped and comments beside diff lines; a
read-only person's label is refused, and a label goes by its ×."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import browser_page, needs_chromium, screenshot
from triad_lab.playground import play
from triad_lab.playground.models import QUESTION
from triad_lab.simulator.stack import TriadStack

pytestmark = [needs_chromium, pytest.mark.timeout(600)]
LOG = "tests/test_core.py F\nE   assert 2 == -4\n1 failed, 2 passed in 0.02s"


async def _stage(page: Any, stage: str) -> None:
    await page.locator("#stage", has_text=stage).wait_for()
    assert (await page.locator("#stage").inner_text()) == stage


async def _label(page: Any, name: str) -> None:
    await page.fill("#label-name", name)
    await page.click("#add-label")


async def _comment(page: Any, text: str) -> None:
    await page.fill("#comment-body", text)
    await page.click("#comment")


async def _act_as(page: Any, person: str) -> None:
    async with page.expect_navigation():
        await page.select_option("#person", person)


async def test_a_person_drives_the_whole_workflow_in_the_playground(tmp_path: Path) -> None:
    stop = asyncio.Event()
    started: dict[str, Any] = {}

    def ready(url: str, stack: TriadStack) -> None:
        started["url"], started["stack"] = url, stack

    running = asyncio.create_task(
        play(
            host="127.0.0.1",
            port=0,
            state_dir=tmp_path / "playground",
            real_models=False,
            stop=stop,
            ready=ready,
        )
    )
    try:
        while "url" not in started:
            assert not running.done(), running.exception()
            await asyncio.sleep(0.05)
        async with browser_page() as page:
            await _play(page, started["url"], tmp_path)
        stack: TriadStack = started["stack"]
        assert await stack.dead_jobs() == []
        assert stack.github.errors == [] and stack.github.unimplemented == []
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)


async def _play(page: Any, url: str, tmp_path: Path) -> None:
    await page.goto(url)
    # an outsider opens an issue with HTML in it: shown as text, Markdown rendered
    await _act_as(page, "mallory")
    await page.fill("#new-title", "Widgets <b>crash</b>")
    await page.fill(
        "#new-body", "It **crashes**. <img src=x onerror=alert(1)> <script>x()</script>"
    )
    await page.click("#open-issue")
    await page.locator("#title", has_text="Widgets <b>crash</b>").wait_for()
    body = page.locator(".comment").first
    assert await body.locator("strong", has_text="crashes").count() == 1
    assert await page.locator("#live img").count() == 0
    assert await page.locator("#live script").count() == 0
    assert "<img src=x onerror=alert(1)>" in await body.inner_text()
    # an outsider may not label, as on GitHub
    await _label(page, "triad:design")
    await page.locator("#error", has_text="(403)").wait_for()
    assert await page.locator("#labels .label").count() == 0
    # back to the list, and into the demo issue, by clicks
    await page.click("header a:has-text('Triad playground')")
    await page.click("a[href='/issues/1']")
    await page.locator("#title", has_text="Issue #1").wait_for()
    # a contributor comments on the demo issue; the maintainer starts the architect
    await _act_as(page, "carol")
    await _comment(page, "I would use this daily.")
    await page.locator(".comment[data-author='carol']", has_text="daily").wait_for()
    await _act_as(page, "alice")
    # a label added by mistake goes by its ×
    await _label(page, "wontfix")
    mistake = page.locator("#labels .label[data-label='wontfix']")
    await mistake.wait_for()
    await mistake.locator("button").click()
    await mistake.wait_for(state="detached")
    await _label(page, "triad:design")
    await _stage(page, "design-proposed")
    await page.get_by_text(QUESTION).first.wait_for()
    assert await page.locator(".comment[data-author='triad[bot]'] time").count() >= 1
    # the maintainer answers the question; the architect revises
    await _comment(page, "Opt-in, behind a flag.\n/triad revise")
    await page.locator("h2", has_text="Design v2").wait_for()
    await _label(page, "triad:approved")
    await _stage(page, "testing")
    await page.click("#pr-link")
    await page.locator("#title", has_text="Pull request").wait_for()
    first_head = (await page.locator("h3", has_text="Checks on").inner_text()).split()[-1]
    # CI fails with a log; the developer pushes a fix, and CI has not run on it yet
    await page.fill("#ci-log", LOG)
    await page.click("#ci-fail")
    await page.locator("#checks", has_text="has not reported").wait_for()
    assert first_head not in await page.locator("h3", has_text="Checks on").inner_text()
    await _stage(page, "testing")
    # CI passes; the reviewers disagree, one inline comment beside its diff line
    await page.click("#ci-pass")
    await _stage(page, "needs-human")
    assert await page.locator(".review-state").count() == 2
    inline = page.locator("tr.inline")
    await inline.first.wait_for()
    line = await inline.first.get_attribute("data-line")
    numbered = page.locator(f"tr.add[data-line='{line}']")
    assert await numbered.count() >= 1
    await inline.first.scroll_into_view_if_needed()
    await screenshot(page, "playground.png", tmp_path)
    # the maintainer decides: accept as it is; QA passes
    await _comment(page, "/triad resume")
    await _stage(page, "ready-for-qa")
    await _label(page, "triad:qa-passed")
    await _stage(page, "done")
    cost = await page.locator("#cost").inner_text()
    assert "tokens" in cost and not cost.startswith("0 tokens")
