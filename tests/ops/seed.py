"""An operated store: workflows with transitions, usage, deliveries and jobs in every state."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.store import Delivery, DeliveryOutcome, JobState, NewJob, Store
from bot.store.usage import UsageRecord, UsageStore
from bot.store.workflows import WorkflowStore
from bot.workflow.actions import RunStage
from bot.workflow.model import Stage, Workflow


@dataclass
class Seeded:
    dead_job: int
    dead_review_job: int
    queued_job: int
    done_job: int


def _usage(
    workflow_id: int | None, role: str, provider: str, model: str, cost: float, tokens: int
) -> UsageRecord:
    other = role == "reviewer_b"
    return UsageRecord(
        installation_id=6 if other else 5,
        repository="acme/app" if other else "octo/repo",
        workflow_id=workflow_id,
        stage=role,
        role=role,
        provider=provider,
        model=model,
        request_id=None,
        input_tokens=tokens,
        output_tokens=tokens // 10,
        cost=cost,
        latency_ms=1200,
        outcome="ok",
    )


async def seed(store: Store) -> Seeded:
    """Two workflows (octo/repo#12 reviewing, acme/app#3 design-proposed), spend by three
    roles, a done, a queued and two dead jobs, and deliveries of every outcome."""
    workflows = WorkflowStore(store)
    start = Workflow("octo/repo", 5, 12, Stage.DESIGNING, design_version=1)
    one, _ = await workflows.apply(
        "octo/repo", 12, None, start, (),
        source="d-1", cause="DesignRequested", actor="maya", reason="design requested",
    )  # fmt: skip
    assert one is not None
    two, _ = await workflows.apply(
        "octo/repo", 12, one, replace(one, stage=Stage.DESIGN_PROPOSED), (),
        source="job:1", cause="DesignProposed", actor=None, reason="design v1 proposed",
    )  # fmt: skip
    assert two is not None
    three, _ = await workflows.apply(
        "octo/repo", 12, two, replace(two, stage=Stage.REVIEWING, pr_number=13),
        (RunStage("review", "review:octo/repo#12:1", {"round": 1}),),
        source="d-2", cause="DesignApproved", actor="maya", reason="approved v1",
    )  # fmt: skip
    assert three is not None
    other = Workflow("acme/app", 6, 3, Stage.DESIGN_PROPOSED, design_version=1)
    four, _ = await workflows.apply(
        "acme/app", 3, None, other, (),
        source="d-3", cause="DesignRequested", actor="lee", reason="design requested",
    )  # fmt: skip
    assert four is not None

    usage = UsageStore(store)
    await usage.record(_usage(three.id, "architect", "anthropic", "claude-opus-4-6", 1.5, 1000))
    await usage.record(_usage(three.id, "developer", "anthropic", "claude-sonnet-4-6", 0.5, 800))
    await usage.record(_usage(four.id, "reviewer_b", "openai", "gpt-5.2", 0.25, 400))

    outcomes = (DeliveryOutcome.QUEUED, DeliveryOutcome.IGNORED, DeliveryOutcome.PING)
    for n, outcome in enumerate(outcomes, start=1):
        job = None
        if outcome is DeliveryOutcome.QUEUED:
            job = NewJob("delivery", f"delivery:d-{n}", {"delivery_id": f"d-{n}"})
        await store.record_delivery(
            Delivery(f"d-{n}", "issues", "labeled", 5, "octo/repo", "maya", outcome, b"{}"), job
        )
    done = await store.claim("w", 30, ["delivery"])
    assert done is not None
    await store.complete(done.id, "w")

    dead = await store.enqueue(NewJob("architect", "architect:octo/repo#12:v1", {"v": 1}))
    dead_review = await store.enqueue(NewJob("review", "review:acme/app#3:1", {"round": 1}))
    for job_id, error in ((dead, "ModelUnavailable: anthropic is down"), (dead_review, "boom")):
        claimed = await store.claim("w", 30, ["architect", "review"])
        assert claimed is not None and claimed.id == job_id
        assert await store.fail(claimed.id, "w", error, retry_in=None) is JobState.DEAD
    queued = await store.enqueue(NewJob("ci_watch", "ci:octo/repo#12", {}, delay_seconds=600))
    assert dead is not None and dead_review is not None and queued is not None
    return Seeded(dead_job=dead, dead_review_job=dead_review, queued_job=queued, done_job=done.id)
