"""Everyday traffic costs nothing (issue 14): what no part of Triad can act on is answered 202,
recorded as ignored with its reason and queues no job, decided from the payload and the store
with no GitHub request; the repository's config is read by commit, not on every job, and read
again when a push to the default branch changes it."""

from __future__ import annotations

from collections import Counter

from bot.repo_config import CONFIG_PATH
from bot.store import DeliveryOutcome
from bot.store.base import Row
from bot.store.repo_configs import ConfigCache
from tests.conftest import FIXTURES
from tests.e2e.conftest import CONTRIBUTOR, MAINTAINER, OUTSIDER, REPO, open_issue
from tests.e2e.helpers import workflow_of
from triad_lab.simulator.stack import TriadStack
from triad_lab.traffic import everyday, replay

PEOPLE = (OUTSIDER, CONTRIBUTOR, MAINTAINER)


async def _config_cached(stack: TriadStack) -> None:
    """One command: its job reads the repository's config, and the store keeps it."""
    assert stack.store is not None
    number = open_issue(stack)
    stack.github.comment(REPO, number, MAINTAINER, "/triad status")
    await stack.settle()
    assert await ConfigCache(stack.store).get(REPO) is not None


IGNORED = DeliveryOutcome.IGNORED.value


async def _deliveries(stack: TriadStack) -> list[Row]:
    assert stack.store is not None
    return await stack.store.run(
        lambda tx: tx.fetchall("SELECT event, outcome, reason FROM deliveries")
    )


def _config_reads(stack: TriadStack) -> int:
    return sum(1 for r in stack.github.requests if r.path.endswith(CONFIG_PATH))


async def test_400_everyday_deliveries_cost_no_github_request_and_no_job(
    stack: TriadStack,
) -> None:
    assert stack.store is not None
    await _config_cached(stack)
    installation = stack.github.installation_id(REPO)
    assert installation is not None
    deliveries = everyday(FIXTURES, REPO, installation, PEOPLE, count=400)
    counts = await replay(stack, deliveries)
    assert (counts.deliveries, counts.answered) == (400, 400)
    assert counts.github_requests == 0, counts.routes
    assert counts.jobs == 0
    ignored = [row for row in await _deliveries(stack) if row["outcome"] == IGNORED]
    assert len(ignored) >= 400 and all(row["reason"] for row in ignored)
    kinds = Counter(event for event, _ in deliveries)
    assert len(kinds) >= 8  # comments, labels, PRs, CI, statuses, reviews, pushes, issues


async def test_during_a_github_outage_everyday_deliveries_make_no_failing_job(
    stack: TriadStack,
) -> None:
    await _config_cached(stack)
    installation = stack.github.installation_id(REPO)
    assert installation is not None
    stack.github.fail("*", ".", 503, times=1_000_000)
    counts = await replay(stack, everyday(FIXTURES, REPO, installation, PEOPLE, count=60))
    assert (counts.answered, counts.jobs, counts.github_requests) == (60, 0, 0)
    assert await stack.dead_jobs() == []


async def test_the_config_is_read_once_by_commit_not_on_every_job(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    await stack.settle()
    assert stack.store is not None
    jobs = await stack.store.list_jobs()
    assert len(jobs) >= 4  # deliveries, the architect, the developer …
    assert _config_reads(stack) == 1
    cached = await ConfigCache(stack.store).get(REPO)
    assert cached is not None and cached.text is None  # the demo repository has no file
    assert cached.commit == stack.github.repo(REPO).refs["refs/heads/main"]


async def test_a_push_that_changes_the_config_is_read_again_and_its_labels_act(
    stack: TriadStack,
) -> None:
    assert stack.store is not None
    await _config_cached(stack)
    reads = _config_reads(stack)
    # a push to another branch, and one to main that leaves the file alone: dropped
    stack.github.push(REPO, "docs", CONTRIBUTOR, {"README.md": "# widgets\n"}, "Docs")
    stack.github.push(REPO, "main", MAINTAINER, {"README.md": "# widgets!\n"}, "Readme")
    await stack.settle()
    assert _config_reads(stack) == reads
    renamed = "labels:\n  design: ai:design\n"
    head = stack.github.push(REPO, "main", MAINTAINER, {CONFIG_PATH: renamed}, "Rename labels")
    await stack.settle()
    assert _config_reads(stack) == reads + 1
    cached = await ConfigCache(stack.store).get(REPO)
    assert cached is not None and (cached.commit, cached.text) == (head, renamed)
    reasons = {row["reason"] for row in await _deliveries(stack) if row["event"] == "push"}
    assert {f"the push does not change {CONFIG_PATH}", None} <= reasons
    assert "a push to a branch other than the default branch" in reasons

    number = open_issue(stack)
    jobs = len(await stack.store.list_jobs())
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")  # no longer Triad's
    await stack.settle()
    assert len(await stack.store.list_jobs()) == jobs
    stack.github.add_label(REPO, number, MAINTAINER, "ai:design")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 1
    assert _config_reads(stack) == reads + 1


async def test_a_label_dropped_on_a_config_read_before_its_rename_acts_once_the_config_is_read(
    stack: TriadStack,
) -> None:
    """The label arrives before the push that renames it (or the push was missed and the
    cached config is stale): the drop is read again when the config is, and acts once."""
    assert stack.store is not None
    await _config_cached(stack)
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "ai:design")
    await stack.settle()
    [dropped] = [
        row
        for row in await _deliveries(stack)
        if row["reason"] == "label 'ai:design' is not one of Triad's labels here"
    ]
    assert dropped["outcome"] == IGNORED
    renamed = "labels:\n  design: ai:design\n"
    stack.github.push(REPO, "main", MAINTAINER, {CONFIG_PATH: renamed}, "Rename labels")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 1
    # a later refresh with the same text queues nothing again
    jobs = len(await stack.store.list_jobs())
    stack.github.push(REPO, "main", MAINTAINER, {CONFIG_PATH: renamed + "\n"}, "Blank line")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 1
    assert len(await stack.store.list_jobs()) == jobs + 1  # the push's own job, nothing more
