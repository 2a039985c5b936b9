"""The workers' sweep queues one finish job per issue with work no live job is doing, and a dead
stage job becomes the failure its workflow is told of (store only, no GitHub)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

import pytest

from bot.stages.recovery import dead_stage_failed, sweep
from bot.stages.undelivered import lost_delivery, notice
from bot.store import Delivery, DeliveryOutcome, Job, JobState, NewJob, Store
from bot.store.recovery import Recovery
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


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("finish", ABOUT), ("developer", {"round": "two"})],
    ids=["a-finish-job", "a-stage-job-of-an-unreadable-payload"],
)
async def test_a_dead_job_no_issue_is_told_of_is_logged_and_counted_told(
    store: Store, kind: str, payload: dict[str, object]
) -> None:
    """`triad_dead_letters_reported{how="no"}` counted them for ever: the sweep would never
    report them. A dead finish job's work is still in the store for the next one."""
    await _dead(store, kind, payload, "boom")
    await sweep(store)
    assert await Recovery(store).reported() == {(kind, "log"): 1}


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
        "its job ran out of attempts (5): GitHub was unavailable or refused the request. "
        "An operator sees the details with `triad jobs show 9`.",
        round=3,
        job_id=9,
    )
    architect = dead_stage_failed(job("architect", {"version": 2}))
    assert architect is not None and architect.version == 2
    review = dead_stage_failed(job("review", {"pr_number": 4, "head_sha": "a" * 40}))
    assert review is not None and review.head_sha == "a" * 40
    look = {"head_sha": "b" * 40, "minutes": 0, "look_only": True}
    assert dead_stage_failed(job("ci-watch", look)) is None, "the deadline's job asks a human"
    assert dead_stage_failed(job("developer", {})) is None, "unreadable: nothing ran"


@pytest.mark.parametrize(
    ("last_error", "said"),
    [
        ("lease expired on the last attempt; worker was db-7.internal:4242:ab12cd/0", "crashed"),
        ("GitHubUnavailable: GET https://ghe.corp.example/api/v3/repos 503", "GitHub"),
        ("GitHubRateLimited: secondary rate limit", "GitHub"),
        ("ModelError: anthropic at 10.0.0.5 answered 529", "model"),
        ("APIConnectionError: Connection error.", "model"),
        (
            'OperationalError: connection to server at "pg.corp" (10.1.2.3), port 5432 failed:'
            ' FATAL: password authentication failed for user "triad"',
            "store",
        ),
        ("KeyError: 'x'", "unexpected error"),
    ],
)
def test_a_dead_jobs_public_reason_is_a_category_never_its_error(
    last_error: str, said: str
) -> None:
    """What GitHub readers see: why, in a word, and where the operator finds the details;
    never a host, a process, a user or an address from the error."""
    job = Job(
        9, "developer", "developer:x", ABOUT | {"round": 3}, JobState.DEAD, 5, 5, 0.0, None,
        None, f"Traceback (most recent call last):\n  ...\n{last_error}", 0.0, 1.0,
    )  # fmt: skip
    failed = dead_stage_failed(job)
    assert failed is not None
    assert said in failed.reason and "`triad jobs show 9`" in failed.reason
    for secret in ("db-7", "4242", "corp", "10.", "password", 'triad"', "'x'"):
        assert secret not in failed.reason, secret


async def _dead_delivery(
    store: Store, body: Mapping[str, object] | bytes, delivery_id: str = "d-1"
) -> int:
    delivery = Delivery(
        id=delivery_id,
        event="check_suite",
        action="completed",
        installation_id=5,
        repository="octo/repo",
        sender="alice",
        outcome=DeliveryOutcome.QUEUED,
        body=body if isinstance(body, bytes) else json.dumps(body).encode(),
    )
    job = NewJob(
        kind="delivery",
        idempotency_key=f"delivery:{delivery_id}",
        payload={"delivery_id": delivery_id},
    )
    assert await store.record_delivery(delivery, job)
    [queued] = await store.list_jobs(JobState.QUEUED)
    assert await store.claim("w", 10, ["delivery"]) is not None
    assert await store.fail(queued.id, "w", "GitHubUnavailable: 503", retry_in=None)
    return queued.id


async def test_a_dead_delivery_about_no_issue_is_logged_and_marked_not_queued(
    store: Store,
) -> None:
    body = {"action": "completed", "repository": {"full_name": "octo/repo"}}
    await _dead_delivery(store, body)
    assert await sweep(store) == [], "no issue to tell"
    assert await Recovery(store).unreported_dead(["delivery"]) == []


async def test_a_dead_delivery_whose_body_nests_deeper_than_json_reads_is_told_from_its_record(
    store: Store,
) -> None:
    """A stored body the sweep cannot read (nested past the recursion limit) is read as its
    delivery's record: the sweep goes on, here with no issue to tell."""
    deep = b'{"action":"completed","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    await _dead_delivery(store, deep)
    assert await sweep(store) == []
    assert await Recovery(store).unreported_dead(["delivery"]) == []


async def test_a_dead_delivery_about_an_issue_gets_a_finish_job_for_it(store: Store) -> None:
    body = {
        "action": "labeled",
        "issue": {"number": 12},
        "repository": {"full_name": "octo/repo"},
        "installation": {"id": 5},
        "sender": {"login": "alice"},
    }
    await _dead_delivery(store, body)
    [queued] = await sweep(store)
    finish = await store.get_job(queued)
    assert finish is not None and finish.payload == ABOUT


async def test_undone_actions_of_an_unknown_installation_are_logged_once(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A transition stored before Triad recorded installations, with nothing to ask for one:
    no finish job can be queued for it, and saying so every sweep would flood the log."""
    await WorkflowStore(store).apply(
        "octo/old", 3, None, None, (AddLabel("x"),),
        source="d-old", cause="c", actor=None, reason="r",
    )  # fmt: skip
    clock.advance(121)
    for _ in range(3):
        assert await sweep(store) == []
    said = [r for r in caplog.records if "installation is unknown" in r.getMessage()]
    assert len(said) == 1


async def test_the_days_notice_says_each_lost_delivery_once(store: Store) -> None:
    """A finish job retried after it wrote the notice (before it marked the deliveries told)
    must not say them twice; a later loss joins the day's notice."""
    first = await _dead_delivery(store, {"action": "completed"}, "d-1")
    dead = await store.get_job(first)
    assert dead is not None
    lost = await lost_delivery(store, dead)
    said = notice([lost])
    assert notice([lost], said) == said
    assert notice([], said) == said
    later = replace(lost, job=replace(dead, id=first + 1))
    both = notice([later], said)
    assert both.count("\n- ") == 2 and f"`triad jobs retry {first} {first + 1}`" in both
