"""A finish job for an issue whose repository or installation is gone: nobody on GitHub can be
told, so the deaths are logged and counted once, not retried and requeued forever.

The store is real (both backends), GitHub is the simulator through the App's real clients."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import GitHubUnavailable
from bot.llm.models import build_models
from bot.settings import Settings
from bot.stages.recovery import FINISH_ATTEMPTS, handle_finish, sweep
from bot.stages.services import Services
from bot.store import JobState, NewJob, Store
from bot.store.recovery import Recovery
from bot.store.workflows import WorkflowStore
from bot.workflow.actions import AddLabel
from bot.workflow.model import Stage, Workflow
from tests.conftest import FakeClock
from tests.github.conftest import REPO, app_for
from triad_lab.simulator.server import Simulator

#: the repository deleted, or the installation lost it, for good
GONE = 100000


@pytest.mark.parametrize(
    ("fault", "how"),
    [
        ({"path": rf"^/repos/{REPO}(/|$)", "status": 404, "times": GONE}, "log"),  # deleted
        (
            {
                "path": rf"^/repos/{REPO}(/|$)",
                "status": 403,
                "message": "Resource not accessible by integration",
                "times": GONE,
            },
            "log",
        ),
        (  # uninstalled
            {
                "method": "POST",
                "path": r"^/app/installations/\d+/access_tokens$",
                "status": 404,
                "times": GONE,
            },
            "log",
        ),
        # an outage is not a repository gone: the workflow is told as usual
        ({"method": "GET", "path": rf"^/repos/{REPO}$", "status": 503, "times": GONE}, "workflow"),
        # nor is a 404 or a 401 that passes (an incident at GitHub): the job asks again later
        ({"method": "GET", "path": rf"^/repos/{REPO}$", "status": 404, "times": 1}, "workflow"),
        (
            {
                "method": "GET",
                "path": rf"^/repos/{REPO}$",
                "status": 401,
                "message": "Bad credentials",
                "times": 2,
            },
            "workflow",
        ),
    ],
)
async def test_a_dead_stage_job_of_a_repository_that_is_gone_is_reported_once(
    store: Store, clock: FakeClock, sim: Simulator, fault: dict[str, Any], how: str
) -> None:
    installation = sim.installation_id(REPO)
    assert installation is not None
    about = {"repository": REPO, "installation_id": installation, "issue_number": 3}
    dead = await store.enqueue(
        NewJob(kind="developer", idempotency_key="developer:1", payload=about | {"round": 1})
    )
    assert dead is not None and await store.claim("w", 10, ["developer"]) is not None
    assert await store.fail(dead, "w", "GitHubUnavailable: 503", retry_in=None)
    start = Workflow(REPO, installation, 3, Stage.IMPLEMENTING, round=1)
    await WorkflowStore(store).apply(
        REPO, 3, None, start, (AddLabel("x"),), source="d-1", cause="c", actor=None,
        reason="r", installation_id=installation,
    )  # fmt: skip
    clock.advance(121)  # nobody holds its actions any more
    sim.fail(**({"method": "*"} | fault))
    no_keys = Settings(anthropic_api_key=None, openai_api_key=None)
    services = Services(
        store, app_for(sim), build_models(no_keys, store, environ={}), bot_login="triad[bot]"
    )
    finish_jobs = set()
    for _ in range(FINISH_ATTEMPTS + 2):  # sweeps, each running what it queued, as a worker would
        finish_jobs |= set(await sweep(store))
        while (job := await store.claim("w", 10, ["finish"])) is not None:
            try:
                await handle_finish(job, services)
            except GitHubUnavailable as exc:  # asked again on its next attempt
                await store.fail(job.id, "w", str(exc), retry_in=1)
            else:
                await store.complete(job.id, "w")
        clock.advance(5)
    assert len(finish_jobs) == 1
    assert await Recovery(store).reported() == {("developer", how): 1}
    assert await Recovery(store).stalled() == []
    assert [j.kind for j in await store.list_jobs(JobState.DEAD)] == ["developer"]
