"""Each way a GitHub call fails becomes one of Triad's errors, naming the call and what GitHub
said; the real githubkit client talks to the simulator, which injects the faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.errors import (
    GitHubConflict,
    GitHubError,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRefused,
    GitHubUnavailable,
)
from bot.github import pulls
from bot.github.client import GitHubApp
from bot.github.repo import Repo
from tests.github.conftest import REPO, app_for, repo_for
from triad_lab.simulator.server import Simulator

OWNER, NAME = REPO.split("/")


async def test_a_missing_resource_is_not_found_and_says_which_call(repo: Repo) -> None:
    with pytest.raises(GitHubNotFound) as caught:
        await repo.issue(999)
    error = caught.value
    assert (error.method, error.path, error.status) == ("GET", f"/repos/{REPO}/issues/999", 404)
    assert error.message == "Not Found"
    assert str(error) == (
        f"GET /repos/{REPO}/issues/999: 404 Not Found"
        " (it does not exist, or the App's installation cannot see it)"
    )


async def test_a_validation_failure_is_refused_with_the_reasons_github_listed(
    sim: Simulator, repo: Repo
) -> None:
    sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    await pulls.open_pull(repo, branch="x", base="main", title="x", body="", draft=False)
    with pytest.raises(GitHubRefused) as caught:
        await pulls.open_pull(repo, branch="x", base="main", title="x", body="", draft=False)
    error = caught.value
    assert (error.method, error.path, error.status) == ("POST", f"/repos/{REPO}/pulls", 422)
    assert error.message == "Validation Failed"
    assert error.details == ("A pull request already exists for acme:x.",)
    assert "422 Validation Failed: A pull request already exists for acme:x." in str(error)


async def test_a_validation_error_without_a_message_is_told_by_its_fields(repo: Repo) -> None:
    await repo.ensure_labels([])  # (nothing to create)
    rest = repo.github.rest
    await rest.issues.async_create_label(OWNER, NAME, name="bug", color="d73a4a")
    with pytest.raises(GitHubRefused) as caught:
        await rest.issues.async_create_label(OWNER, NAME, name="Bug", color="d73a4a")
    assert caught.value.reason == "Validation Failed: Label.name already_exists"


async def test_a_permission_the_app_lacks_is_forbidden(repo: Repo) -> None:
    # Triad's App may only read commit statuses
    main = await repo.default_branch()
    with pytest.raises(GitHubForbidden) as caught:
        await repo.github.rest.repos.async_create_commit_status(
            OWNER, NAME, main, state="success", context="triad"
        )
    assert caught.value.status == 403
    assert caught.value.message == "Resource not accessible by integration"
    assert "lacks a permission" in str(caught.value)


async def test_a_head_that_moved_under_a_merge_is_a_conflict(sim: Simulator, repo: Repo) -> None:
    sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    pull = await pulls.open_pull(repo, branch="x", base="main", title="x", body="", draft=False)
    with pytest.raises(GitHubConflict) as caught:
        await repo.github.rest.pulls.async_merge(OWNER, NAME, pull.number, sha="0" * 40)
    assert caught.value.status == 409
    assert caught.value.message == "Head branch was modified. Review and try the merge again."
    # pulls.merge turns GitHub's refusal into its reason, for the person deciding
    assert await pulls.merge(repo, pull.number, "0" * 40) == caught.value.message


async def test_server_errors_are_retried_before_they_become_unavailable(
    sim: Simulator, repo: Repo
) -> None:
    sim.fail("GET", rf"^/repos/{REPO}$", 502, times=4)
    with pytest.raises(GitHubUnavailable) as caught:
        await repo.default_branch()
    assert (caught.value.status, caught.value.message) == (502, "Bad Gateway")
    statuses = [r.status for r in sim.requests if r.path == f"/repos/{REPO}"]
    assert statuses[-4:] == [502, 502, 502, 502]  # the first answer and three retries


async def test_a_secondary_rate_limit_carries_the_wait_github_asked_for(sim: Simulator) -> None:
    repo = await repo_for(sim, app_for(sim, rate_limit_retries=0))
    sim.fail("GET", rf"^/repos/{REPO}$", 403, retry_after=7)
    with pytest.raises(GitHubRateLimited) as caught:
        await repo.default_branch()
    error = caught.value
    assert (error.status, error.retry_after) == (403, 7)
    assert "secondary rate limit" in error.message
    assert str(error).endswith("(rate limited: retry after 7 s)")


async def test_the_primary_rate_limit_waits_until_its_reset(sim: Simulator) -> None:
    repo = await repo_for(sim, app_for(sim, rate_limit_retries=0))
    sim.rate_limit("GET", rf"^/repos/{REPO}$", reset_in=60)
    with pytest.raises(GitHubRateLimited) as caught:
        await repo.default_branch()
    assert caught.value.status == 403
    assert 58 <= caught.value.retry_after <= 61
    assert caught.value.message.startswith("API rate limit exceeded")


@pytest.mark.parametrize("status", [403, 429])
async def test_a_rate_limit_without_headers_is_known_by_its_words(
    sim: Simulator, repo: Repo, status: int
) -> None:
    sim.fail("GET", rf"^/repos/{REPO}$", status)  # GitHub's rate-limit message, no headers
    with pytest.raises(GitHubRateLimited) as caught:
        await repo.default_branch()
    assert (caught.value.status, caught.value.retry_after) == (status, 60)


async def test_a_rate_limit_that_passes_is_waited_out_not_raised(
    sim: Simulator, repo: Repo
) -> None:
    sim.fail("GET", rf"^/repos/{REPO}$", 403, retry_after=1)
    assert await repo.default_branch() == "main"


async def test_no_answer_before_the_timeout_is_unavailable(sim: Simulator) -> None:
    repo = await repo_for(sim, app_for(sim, timeout=0.2))
    sim.slow("GET", "/contents/README.md$", 1.0)
    with pytest.raises(GitHubUnavailable) as caught:
        await repo.read_file("README.md")
    error = caught.value
    path = f"/repos/{REPO}/contents/README.md"
    assert (error.method, error.path, error.status) == ("GET", path, 0)
    assert str(error).startswith(f"GET {path}: no answer before the timeout")


async def test_a_refused_connection_is_unavailable(sim: Simulator) -> None:
    app = GitHubApp(sim.app_id, sim.private_key_pem, "http://127.0.0.1:9")  # nothing listens
    with pytest.raises(GitHubUnavailable) as caught:
        await app.repo(1, REPO).default_branch()
    assert caught.value.status == 0 and "ConnectError" in caught.value.message
    await app.aclose()


async def test_a_token_github_will_not_issue_names_the_token_request(
    make_sim: Callable[..., Simulator],
) -> None:
    sim, other = make_sim(), make_sim()
    installation_id = sim.installation_id(REPO)
    assert installation_id is not None
    # the App's key is not the one GitHub knows: its JWT is refused, so no token comes
    app = GitHubApp(sim.app_id, other.private_key_pem, sim.url)
    with pytest.raises(GitHubForbidden) as caught:
        await app.repo(installation_id, REPO).default_branch()
    await app.aclose()
    error = caught.value
    assert error.status == 401
    assert error.path == f"/app/installations/{installation_id}/access_tokens"


async def test_graphql_errors_in_a_200_answer_are_translated_by_their_type(
    make_sim: Callable[..., Simulator],
) -> None:
    sim = make_sim()
    repo = await repo_for(sim, app_for(sim))
    with pytest.raises(GitHubNotFound) as caught:
        await pulls.mark_ready(repo, "PR_nothing")
    assert caught.value.path == "/graphql"
    assert "Could not resolve to a node" in caught.value.message
    read_only = make_sim(permissions={"pull_requests": "read", "metadata": "read"})
    repo = await repo_for(read_only, app_for(read_only))
    with pytest.raises(GitHubForbidden) as caught_forbidden:
        await pulls.mark_ready(repo, "PR_anything")
    assert caught_forbidden.value.message == "Resource not accessible by integration"


async def test_every_translated_failure_is_a_github_error_and_keeps_githubkits_cause(
    repo: Repo,
) -> None:
    with pytest.raises(GitHubError) as caught:
        await repo.github.rest.repos.async_get(OWNER, "missing")
    assert isinstance(caught.value, GitHubNotFound)
    assert caught.value.__cause__ is not None  # githubkit's exception, for the logs
