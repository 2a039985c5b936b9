"""The playground's page over HTTP against the simulator: missing issues are 404, posts from
other sites and unexpected hosts are refused, the person switch stays on this site, a PR is
told by its data, and the diff shows only the current round's inline comments."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.store import open_store
from triad_lab.playground.app import COOKIE, Playground, create_playground_app
from triad_lab.simulator import demo_repo
from triad_lab.simulator.server import Simulator

REPO = demo_repo.REPOSITORY
PAGE = "http://127.0.0.1:3100"
SAME_ORIGIN = {"origin": PAGE, "sec-fetch-site": "same-origin"}


@pytest.fixture
def github() -> Iterator[Simulator]:
    with Simulator(webhook_url=None) as sim:
        sim.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        sim.install("acme", [REPO])
        yield sim


@pytest.fixture
async def page(tmp_path: Path, github: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with open_store(f"sqlite:///{tmp_path / 'triad.db'}") as store:
        app = create_playground_app(Playground(github.url, REPO, store, demo_repo.MAINTAINER))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PAGE) as client:
            yield client


async def test_a_missing_issue_is_not_found(page: httpx.AsyncClient) -> None:
    assert (await page.get("/issues/999/live")).status_code == 404
    assert (await page.get("/issues/999")).status_code == 404


async def test_posts_from_another_site_and_unexpected_hosts_are_refused(
    page: httpx.AsyncClient, github: Simulator
) -> None:
    issue = github.open_issue(REPO, "carol", "Spin faster")
    comment = {"body": "forged"}
    for headers in (
        {},
        {"origin": "https://evil.test"},
        {"origin": "https://evil.test", "sec-fetch-site": "cross-site"},
        {"referer": "https://evil.test/page"},
    ):
        refused = await page.post(f"/issues/{issue.number}/comments", data=comment, headers=headers)
        assert refused.status_code == 403, headers
    # a name rebound to 127.0.0.1 gets nothing, even "from its own origin"
    rebound = {"host": "evil.test:3100", "origin": "http://evil.test:3100"}
    assert (await page.get("/", headers={"host": "evil.test:3100"})).status_code == 421
    assert (
        await page.post(f"/issues/{issue.number}/comments", data=comment, headers=rebound)
    ).status_code == 421
    assert github.world.comments_on(REPO, issue.number) == []
    made = await page.post(f"/issues/{issue.number}/comments", data=comment, headers=SAME_ORIGIN)
    assert made.status_code == 303
    assert [c.body for c in github.world.comments_on(REPO, issue.number)] == ["forged"]


async def test_switching_person_goes_back_only_to_this_site(page: httpx.AsyncClient) -> None:
    async def switch(referer: str, person: str = "carol") -> httpx.Response:
        return await page.post(
            "/person", data={"person": person}, headers={**SAME_ORIGIN, "referer": referer}
        )

    back = await switch(f"{PAGE}/issues/1?error=x")
    assert back.headers["location"] == "/issues/1?error=x"
    assert back.cookies[COOKIE] == "carol"
    elsewhere = await page.post(
        "/person",
        data={"person": "carol"},
        headers={"origin": PAGE, "referer": "https://evil.test/phish"},
    )
    assert elsewhere.headers["location"] == "/"
    assert (await switch(f"{PAGE}//evil.test/phish")).headers["location"] == "/evil.test/phish"
    nobody = await switch(f"{PAGE}/", person="../../repos/acme/widgets")
    assert COOKIE not in nobody.cookies


async def test_an_issue_titled_pull_request_is_not_a_pull_request(
    page: httpx.AsyncClient, github: Simulator
) -> None:
    issue = github.open_issue(REPO, "carol", "Pull request template is broken")
    thread = await page.get(f"/issues/{issue.number}")
    assert thread.status_code == 200 and "Pull request template" in thread.text
    assert "id='ci-pass'" not in thread.text


async def test_the_diff_shows_only_the_current_rounds_inline_comments(
    page: httpx.AsyncClient, github: Simulator
) -> None:
    github.push(REPO, "fix", "carol", {"README.md": "# widgets\nfirst\n"}, "First")
    pull = github.open_pull(REPO, "carol", title="Fix", head="fix", base="main")
    note = {"path": "README.md", "line": 2, "body": "Round one: why first?"}
    github.submit_review(REPO, pull.number, "alice", "COMMENT", "", comments=[note])
    assert "Round one" in (await page.get(f"/issues/{pull.number}/live")).text
    github.push(REPO, "fix", "carol", {"README.md": "# widgets\nsecond\n"}, "Second")
    live = (await page.get(f"/issues/{pull.number}/live")).text
    assert "second" in live and "Round one" not in live
    thread = await page.get(f"/issues/{pull.number}")
    assert "id='ci-pass'" in thread.text
