"""GitHub's refusals, as the simulator gives them: status codes, messages, headers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from githubkit.exception import RequestFailed

from bot.errors import GitHubError
from bot.github.client import GitHubApp
from bot.github.repo import Repo
from tests.simulator.conftest import FILES, REPO, as_installation, installation_of, token_for
from triad_lab.simulator.server import Simulator

OWNER, NAME = REPO.split("/")


async def status_of(call: Awaitable[object]) -> tuple[int, dict[str, Any]]:
    """GitHub's status and body, as githubkit received them behind Triad's error."""
    with pytest.raises(GitHubError) as caught:
        await call
    answer = caught.value.__cause__
    assert isinstance(answer, RequestFailed)
    assert answer.response.status_code == caught.value.status
    return answer.response.status_code, answer.response.json()


async def test_git_refs_refuse_duplicates_and_non_fast_forwards(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    main = sim.repo(REPO).refs["refs/heads/main"]
    await gh.git.async_create_ref(OWNER, NAME, ref="refs/heads/work", sha=main)
    status, body = await status_of(
        gh.git.async_create_ref(OWNER, NAME, ref="refs/heads/work", sha=main)
    )
    assert (status, body["message"]) == (422, "Reference already exists")
    ahead = sim.push(REPO, "other", "carol", {"a.txt": "a\n"}, "a")
    sim.push(REPO, "work", "carol", {"b.txt": "b\n"}, "b")
    status, body = await status_of(gh.git.async_update_ref(OWNER, NAME, "heads/work", sha=ahead))
    assert (status, body["message"]) == (422, "Update is not a fast forward")


async def test_a_review_comment_outside_the_diff_is_refused_as_github_does(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    sim.push(REPO, "x", "carol", {"widgets/core.py": FILES["widgets/core.py"] + "# x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main")
    gh = app.installation(installation_id).rest
    status, body = await status_of(
        gh.pulls.async_create_review(
            OWNER,
            NAME,
            pr.number,
            event="COMMENT",
            body="b",
            comments=[{"path": "widgets/core.py", "line": 1, "body": "far from the change"}],
        )
    )
    assert status == 422 and body["errors"] == ["Line could not be resolved"]
    assert sim.repo(REPO).reviews == {}
    # line 4 is context in the hunk around the added line 7: allowed
    await gh.pulls.async_create_review(
        OWNER,
        NAME,
        pr.number,
        event="COMMENT",
        body="b",
        comments=[{"path": "widgets/core.py", "line": 4, "body": "context"}],
    )


async def test_a_second_pr_for_the_same_branch_is_refused(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    sim.push(REPO, "x", "carol", {"c.txt": "c\n"}, "c")
    gh = app.installation(installation_id).rest
    await gh.pulls.async_create(OWNER, NAME, title="x", head="x", base="main")
    status, body = await status_of(
        gh.pulls.async_create(OWNER, NAME, title="x", head="x", base="main")
    )
    assert status == 422 and "already exists" in body["errors"][0]["message"]


async def test_a_repository_outside_the_installation_is_not_found(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    sim.create_repository("acme/secret", {"a": "b"})
    gh = app.installation(installation_id).rest
    status, _ = await status_of(gh.repos.async_get("acme", "secret"))
    assert status == 404


async def test_lists_are_paginated_with_link_headers(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    issue = sim.open_issue(REPO, "alice", "many")
    for n in range(130):
        sim.comment(REPO, issue.number, "alice", f"comment {n}")
    gh = app.installation(installation_id)
    first = await gh.rest.issues.async_list_comments(OWNER, NAME, issue.number, per_page=100)
    assert len(first.parsed_data) == 100
    assert 'rel="next"' in first.headers["link"] and 'rel="last"' in first.headers["link"]
    next_url = first.headers["link"].split(">")[0].lstrip("<")
    assert next_url.startswith(f"{sim.url}/repos/{REPO}/issues/{issue.number}/comments?")
    assert first.headers["x-ratelimit-limit"] == "5000"
    comments = await Repo(gh, REPO).comments(issue.number)
    assert [c.body for c in comments] == [f"comment {n}" for n in range(130)]


async def test_server_errors_are_retried_and_rate_limits_honoured(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    await gh.repos.async_get(OWNER, NAME)  # the token is fetched before the faults start
    sim.fail("GET", rf"^/repos/{REPO}$", 502, times=2)
    assert (await gh.repos.async_get(OWNER, NAME)).parsed_data.name == NAME
    sim.fail("GET", rf"^/repos/{REPO}$", 403, retry_after=1)
    started = time.monotonic()
    assert (await gh.repos.async_get(OWNER, NAME)).parsed_data.name == NAME
    assert time.monotonic() - started >= 1.0
    statuses = [r.status for r in sim.requests if r.path == f"/repos/{REPO}"]
    assert statuses == [200, 502, 502, 200, 403, 200]


async def test_latency_and_the_primary_rate_limit(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    await gh.repos.async_get(OWNER, NAME)
    sim.slow("GET", rf"^/repos/{REPO}$", 0.3)
    started = time.monotonic()
    await gh.repos.async_get(OWNER, NAME)
    assert time.monotonic() - started >= 0.3
    sim.rate_limit("GET", rf"^/repos/{REPO}$", reset_in=1)
    assert (await gh.repos.async_get(OWNER, NAME)).parsed_data.name == NAME
    limited = [r for r in sim.requests if r.status == 403]
    assert len(limited) == 1


# -- GitHub's error codes, endpoint by endpoint ----------------------------------------------


async def test_a_missing_issue_is_not_found(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    status, body = await status_of(gh.issues.async_get(OWNER, NAME, 999))
    assert (status, body["message"]) == (404, "Not Found")


async def test_an_existing_label_is_already_exists(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    await gh.issues.async_create_label(OWNER, NAME, name="triad:design", color="1d76db")
    status, body = await status_of(
        gh.issues.async_create_label(OWNER, NAME, name="Triad:Design", color="1d76db")
    )
    assert (status, body["message"]) == (422, "Validation Failed")
    assert body["errors"] == [{"resource": "Label", "code": "already_exists", "field": "name"}]


async def test_removing_a_label_the_issue_lacks_is_not_found(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    gh = app.installation(installation_id).rest
    await gh.issues.async_create_label(OWNER, NAME, name="elsewhere", color="ededed")
    status, body = await status_of(
        gh.issues.async_remove_label(OWNER, NAME, issue.number, "elsewhere")
    )
    assert (status, body["message"]) == (404, "Label does not exist")


async def test_an_empty_comment_is_refused(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    gh = app.installation(installation_id).rest
    status, body = await status_of(
        gh.issues.async_create_comment(OWNER, NAME, issue.number, body="  ")
    )
    assert (status, body["message"]) == (422, "Validation Failed")
    assert body["errors"][0]["field"] == "body"
    assert sim.comments_on(REPO, issue.number) == []


async def test_missing_contents_are_not_found(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    status, _ = await status_of(gh.repos.async_get_content(OWNER, NAME, "nope.md"))
    assert status == 404


async def test_a_pr_without_commits_is_refused(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    main = sim.repo(REPO).refs["refs/heads/main"]
    await gh.git.async_create_ref(OWNER, NAME, ref="refs/heads/same", sha=main)
    status, body = await status_of(
        gh.pulls.async_create(OWNER, NAME, title="x", head="same", base="main")
    )
    assert status == 422 and body["errors"][0]["message"] == "No commits between main and same"


async def test_a_ref_to_a_missing_object_is_refused(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    status, body = await status_of(
        gh.git.async_create_ref(OWNER, NAME, ref="refs/heads/ghost", sha="1" * 40)
    )
    assert (status, body["message"]) == (422, "Object does not exist")
    assert "refs/heads/ghost" not in sim.repo(REPO).refs


def test_an_invalid_status_state_is_refused(make_sim: Callable[..., Simulator]) -> None:
    # Triad's App only reads statuses; grant write so the state itself is what is judged.
    # githubkit checks the state before sending, so this call goes over raw HTTP.
    sim = make_sim(permissions={"statuses": "write", "metadata": "read"})
    main = sim.repo(REPO).refs["refs/heads/main"]
    with as_installation(sim, token_for(sim, installation_of(sim))) as http:
        answer = http.post(f"/repos/{REPO}/statuses/{main}", json={"state": "green"})
    assert (answer.status_code, answer.json()["message"]) == (422, "Validation Failed")
    assert answer.json()["errors"] == [{"resource": "Status", "field": "state", "code": "invalid"}]


async def test_a_change_request_needs_a_body(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main")
    gh = app.installation(installation_id).rest
    status, body = await status_of(
        gh.pulls.async_create_review(OWNER, NAME, pr.number, event="REQUEST_CHANGES", body="")
    )
    assert status == 422
    assert body["errors"] == ["Review body is required for a review with event REQUEST_CHANGES"]
