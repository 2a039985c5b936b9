"""The workers' sweep queues one finish job per issue with work no live job is doing, and a dead
stage job becomes the failure its workflow is told of (store only, no GitHub)."""

from __future__ import annotations

from bot.stages.recovery import dead_stage_failed, sweep
from bot.store import Job, JobState, NewJob, Store
from bot.store.workflows import WorkflowStore
from bot.workflow.actions import AddLabel
from bot.workflow.events import StageFailed, StageName
from bot.workflow.jobs import JobKind
from bot.workflow.model import Stage, Workflow
from tests.conftest import FakeClock

ABOUT = {"repository": "octo/repo", "installation_id": 5, "issue_number": 12}


async def _dead(store: Store, kind: str, payload: dict[str, object], error: str) -> int:
    job_id = await store.enqueue(NewJob(kind=kind, idempotency_key=f"{kind}:1", payload=payload))
    assert job_id is not None
    claimed = await store.claim("w", 10, [kind])
    assert claimed is not None
    assert await store.fail(job_id, "w", error, retry_in=None) is JobState.DEAD
    return job_id


async def test_a_dead_stage_job_gets_one_finish_job_for_its_issue(store: Store) -> None:
    await _dead(store, "developer", ABOUT | {"round": 2}, "GitHubUnavailable: GET /repos 503")
    [queued] = await sweep(store)
    assert await sweep(store) == [], "one is queued already"
    finish = await store.get_job(queued)
    assert finish is not None and finish.kind == JobKind.FINISH and finish.payload == ABOUT
    assert finish.max_attempts == 20


async def test_undone_actions_nobody_holds_get_a_finish_job(store: Store, clock: FakeClock) -> None:
    workflows = WorkflowStore(store)
    start = Workflow("octo/repo", 5, 12, Stage.DESIGN_PROPOSED)
    await workflows.apply(
        "octo/repo", 12, None, start, (AddLabel("triad:design-proposed"),),
        source="d-1", cause="c", actor=None, reason="r", installation_id=5,
    )  # fmt: skip
    assert await sweep(store) == [], "its deciding code still has it"
    clock.advance(121)  # no job held it: its claim ran out
    assert len(await sweep(store)) == 1


def test_a_dead_job_becomes_the_failure_of_what_it_worked_on() -> None:
    def job(kind: str, payload: dict[str, object]) -> Job:
        return Job(
            9, kind, f"{kind}:x", ABOUT | payload, JobState.DEAD, 5, 5, 0.0, None, None,
            "Traceback...\nGitHubUnavailable: POST /git/trees 502", 0.0, 1.0,
        )  # fmt: skip

    failed = dead_stage_failed(job("developer", {"round": 3}))
    assert failed == StageFailed(
        StageName.DEVELOPER,
        "its job ran out of attempts (5). The last one ended with: "
        "GitHubUnavailable: POST /git/trees 502",
        round=3,
        job_id=9,
    )
    assert dead_stage_failed(job("architect", {"version": 2})).version == 2  # type: ignore[union-attr]
    review = dead_stage_failed(job("review", {"pr_number": 4, "head_sha": "a" * 40}))
    assert review is not None and review.head_sha == "a" * 40
    look = {"head_sha": "b" * 40, "minutes": 0, "look_only": True}
    assert dead_stage_failed(job("ci-watch", look)) is None, "the deadline's job asks a human"
    assert dead_stage_failed(job("developer", {})) is None, "unreadable: nothing ran"
