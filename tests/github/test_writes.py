"""Writes that may have happened: GitHub carried a write out and answered 5xx (or timed out).
Triad looks whether it landed before sending it again, so nothing is posted twice."""

from __future__ import annotations

import pytest

from bot.errors import GitHubUnavailable
from bot.github import gitdata, pulls
from bot.github.markers import marker
from bot.github.repo import Repo
from bot.github.writes import repeatable
from tests.github.conftest import REPO, app_for, repo_for
from triad_lab.simulator.server import Simulator

COMMENTS = "POST /repos/{owner}/{name}/issues/{number}/comments"


async def test_a_comment_that_landed_despite_a_5xx_is_not_posted_again(
    sim: Simulator, repo: Repo
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.fail_after_write("POST", r"/comments$", 502)
    comment_id = await repo.comment_once(issue.number, "progress", "Working on it")
    [posted] = sim.comments_on(REPO, issue.number)
    assert posted.id == comment_id and marker("progress") in posted.body
    assert [r.status for r in sim.requests if r.kind == COMMENTS] == [502], "never sent twice"


async def test_a_comment_that_did_not_land_is_sent_again(sim: Simulator, repo: Repo) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.fail("POST", r"/comments$", 503)
    await repo.upsert_comment(issue.number, "design", "v1")
    assert len(sim.comments_on(REPO, issue.number)) == 1
    assert [r.status for r in sim.requests if r.kind == COMMENTS] == [503, 201]


async def test_a_comment_whose_answer_timed_out_is_found_once_it_lands(sim: Simulator) -> None:
    # timeouts wide enough for a loaded machine: only the slowed POST may time out
    app = app_for(sim, timeout=1.0, retry_base_delay=2.0)
    repo = await repo_for(sim, app)
    issue = sim.open_issue(REPO, "alice", "t")
    sim.slow("POST", r"/comments$", 1.5)  # served after the client gave up on it
    await repo.comment_once(issue.number, "status", "On it")
    assert len(sim.comments_on(REPO, issue.number)) == 1


async def test_a_write_that_never_lands_fails_after_its_attempts(
    sim: Simulator, repo: Repo
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.fail("POST", r"/comments$", 502, times=3)
    with pytest.raises(GitHubUnavailable):
        await repo.comment_once(issue.number, "status", "On it")
    assert sim.comments_on(REPO, issue.number) == []


async def test_commits_and_refs_that_landed_despite_a_5xx(sim: Simulator, repo: Repo) -> None:
    main = await gitdata.branch_head(repo, "main")
    assert main is not None
    sim.fail_after_write("POST", r"/git/commits$", 502)
    sim.fail_after_write("POST", r"/git/refs$", 502)
    first = await gitdata.commit_files(repo, main, {"a.txt": "a\n"}, "one")
    await gitdata.publish(repo, "triad/issue-1", first, existed=False)
    head = await gitdata.branch_head(repo, "triad/issue-1")
    assert head is not None and head.sha == first
    sim.fail_after_write("PATCH", r"/git/refs/heads/triad/issue-1$", 502)
    second = await gitdata.commit_files(repo, head, {"b.txt": "b\n"}, "two")
    await gitdata.publish(repo, "triad/issue-1", second, existed=True)
    repository = sim.repo(REPO)
    history = sim.world.objects.history(
        repository.refs["refs/heads/triad/issue-1"], repository.refs["refs/heads/main"]
    )
    assert [c.message for c in history] == ["one", "two"], "one commit per write on the branch"


async def test_a_pull_request_and_a_review_that_landed_despite_a_5xx(
    sim: Simulator, repo: Repo
) -> None:
    main = await gitdata.branch_head(repo, "main")
    assert main is not None
    sha = await gitdata.commit_files(repo, main, {"a.txt": "a\n"}, "one")
    await gitdata.publish(repo, "triad/issue-1", sha, existed=False)
    sim.fail_after_write("POST", r"/pulls$", 502)
    pull = await pulls.open_pull(
        repo, branch="triad/issue-1", base="main", title="One", body="Closes #1", draft=True
    )
    assert list(sim.repo(REPO).pulls) == [pull.number]
    sim.fail_after_write("POST", r"/reviews$", 502)
    body = f"{marker('review:reviewer_a:' + sha)}\nLooks right."
    review_id = await pulls.post_review(repo, pull.number, sha, body, [])
    [review] = sim.repo(REPO).reviews.values()
    assert review.id == review_id and review.body == body


@pytest.mark.parametrize(
    ("method", "path", "again"),
    [
        ("GET", "/repos/o/r/issues/1", True),
        ("POST", "/repos/o/r/git/blobs", True),
        ("POST", "/repos/o/r/git/commits", True),
        ("POST", "/repos/o/r/issues/1/labels", True),
        ("POST", "/graphql", True),
        ("PATCH", "/repos/o/r/git/refs/heads/triad/issue-1", True),
        ("DELETE", "/repos/o/r/issues/1/labels/x", True),
        ("POST", "/repos/o/r/issues/1/comments", False),
        ("POST", "/repos/o/r/git/refs", False),
        ("POST", "/repos/o/r/pulls", False),
        ("POST", "/repos/o/r/pulls/2/reviews", False),
        ("PUT", "/repos/o/r/pulls/2/merge", False),
    ],
)
def test_only_writes_safe_to_repeat_are_retried_blindly(
    method: str, path: str, again: bool
) -> None:
    assert repeatable(method, path) is again
