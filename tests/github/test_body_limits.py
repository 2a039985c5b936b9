"""GitHub keeps at most 65,536 characters of a comment's, a pull request's or a review's body
and refuses a longer one (422): the simulator as GitHub, and every body Triad writes cut to
fit with its markers kept."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

import pytest

from bot.errors import GitHubError
from bot.github import gitdata, pulls
from bot.github.markers import MAX_BODY_CHARS, marker
from bot.github.repo import Repo
from tests.github.conftest import REPO
from triad_lab.simulator.server import Simulator

OWNER, NAME = REPO.split("/")
LONG = "word " * 14_000  # 70,000 characters
CUT = "GitHub keeps at most 65,536 characters of a body."


@dataclass(frozen=True)
class _Note:
    path: str
    line: int
    body: str


async def _refused(call: Awaitable[object]) -> str:
    with pytest.raises(GitHubError) as caught:
        await call
    assert caught.value.status == 422
    return str(caught.value)


async def _pull(sim: Simulator, repo: Repo, body: str = "Closes #1") -> tuple[int, str]:
    main = await gitdata.branch_head(repo, "main")
    assert main is not None
    sha = await gitdata.commit_files(repo, main, {"widgets/core.py": "x = 1\n"}, "one")
    await gitdata.publish(repo, "triad/issue-1", sha, existed=False)
    pull = await pulls.open_pull(
        repo, branch="triad/issue-1", base="main", title="One", body=body, draft=True
    )
    return pull.number, sha


async def test_the_simulator_refuses_a_body_longer_than_github_keeps(
    sim: Simulator, repo: Repo
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    rest = repo.github.rest
    longest = "x" * MAX_BODY_CHARS
    await rest.issues.async_create_comment(OWNER, NAME, issue.number, body=longest)
    too_long = longest + "x"
    assert "body is too long" in await _refused(
        rest.issues.async_create_comment(OWNER, NAME, issue.number, body=too_long)
    )
    number, sha = await _pull(sim, repo)
    await _refused(rest.pulls.async_update(OWNER, NAME, number, body=too_long))
    await _refused(
        rest.pulls.async_create_review(
            OWNER, NAME, number, commit_id=sha, body=too_long, event="COMMENT"
        )
    )
    inline = [{"path": "widgets/core.py", "line": 1, "side": "RIGHT", "body": too_long}]
    await _refused(
        rest.pulls.async_create_review(
            OWNER, NAME, number, commit_id=sha, body="b", event="COMMENT", comments=inline
        )
    )
    assert sim.repo(REPO).reviews == {}


async def test_every_body_triad_writes_fits_with_its_markers(sim: Simulator, repo: Repo) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    await repo.upsert_comment(issue.number, "progress", LONG)
    [comment] = sim.comments_on(REPO, issue.number)
    assert len(comment.body) <= MAX_BODY_CHARS and comment.body.startswith(marker("progress"))
    assert comment.body.endswith(CUT + "*")
    assert await repo.find_comment(issue.number, "progress") is not None

    number, sha = await _pull(sim, repo, body=f"{marker('pr')}\n{LONG}")
    await pulls.update_body(repo, number, f"{marker('pr')}\n{LONG}{LONG}")
    info = await pulls.get_pull(repo, number)
    assert info is not None and len(info.body) <= MAX_BODY_CHARS

    closing = [marker(f"review-round:reviewer_a:{sha}:1"), marker("review-data:QUJD")]
    body = "\n".join([marker(f"review:reviewer_a:{sha}"), LONG, *closing])
    await pulls.post_review(repo, number, sha, body, [_Note("widgets/core.py", 1, LONG)])
    [review] = sim.repo(REPO).reviews.values()
    assert len(review.body) <= MAX_BODY_CHARS and review.body.endswith("\n".join(closing))
