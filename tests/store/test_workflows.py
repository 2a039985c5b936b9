"""Workflows and transitions on both backends: once per source, optimistic updates, outbox."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.store import Store
from bot.store.workflows import ConcurrentUpdate, WorkflowStore
from bot.workflow.actions import AddLabel, EnsureLabels, PostComment, RunStage, SetCheckRun
from bot.workflow.model import Stage, Workflow, WorkflowKind

NEW = Workflow(
    repository="octo/repo",
    installation_id=5,
    issue_number=12,
    stage=Stage.DESIGNING,
    design_version=1,
)


async def test_a_new_workflow_and_its_transition_are_saved_together(store: Store) -> None:
    workflows = WorkflowStore(store)
    actions = (EnsureLabels(), RunStage("architect", "architect:octo/repo#12:v1", {"v": 1}))
    saved, transition = await workflows.apply(
        "octo/repo",
        12,
        None,
        NEW,
        actions,
        source="d-1",
        cause="DesignRequested",
        actor="maya",
        reason="design requested",
    )
    assert saved is not None and saved.id is not None and saved.revision == 1
    assert replace(saved, id=None, revision=0) == NEW
    assert await workflows.get("octo/repo", 12) == saved
    assert transition.actions == actions and transition.actions_done is False
    assert (transition.from_stage, transition.to_stage) == (None, "designing")
    assert await workflows.pending("octo/repo", 12) == [transition]
    assert await workflows.mark_done(transition.id, None) is True
    assert await workflows.pending("octo/repo", 12) == []
    assert await workflows.transition_for("octo/repo", 12, "d-1") == replace(
        transition, actions_done=True
    )


async def test_updates_are_optimistic(store: Store) -> None:
    workflows = WorkflowStore(store)
    saved, _ = await workflows.apply(
        "octo/repo", 12, None, NEW, (), source="d-1", cause="c", actor=None, reason="r"
    )
    assert saved is not None
    proposed = replace(saved, stage=Stage.DESIGN_PROPOSED, proposed_hash="h1", design_comment_id=9)
    updated, _ = await workflows.apply(
        "octo/repo",
        12,
        saved,
        proposed,
        (AddLabel("triad:design-proposed"),),
        source="architect:v1",
        cause="DesignPublished",
        actor=None,
        reason="proposed",
    )
    assert updated is not None and updated.revision == 2 and updated.proposed_hash == "h1"
    stale = replace(saved, stage=Stage.STOPPED)
    with pytest.raises(ConcurrentUpdate):
        await workflows.apply(
            "octo/repo", 12, saved, stale, (), source="d-2", cause="c", actor=None, reason="r"
        )
    assert await workflows.get("octo/repo", 12) == updated
    assert await workflows.transition_for("octo/repo", 12, "d-2") is None, "rolled back"


async def test_two_workers_creating_the_same_workflow_conflict(store: Store) -> None:
    workflows = WorkflowStore(store)
    await workflows.apply(
        "octo/repo", 12, None, NEW, (), source="a", cause="c", actor=None, reason="r"
    )
    with pytest.raises(ConcurrentUpdate):
        await workflows.apply(
            "octo/repo", 12, None, NEW, (), source="b", cause="c", actor=None, reason="r"
        )


async def test_a_decision_without_a_workflow_still_records_its_actions(store: Store) -> None:
    workflows = WorkflowStore(store)
    refusal = (PostComment("refused:d-1", "@tim only people with write access ..."),)
    saved, transition = await workflows.apply(
        "octo/repo",
        3,
        None,
        None,
        refusal,
        source="d-1",
        cause="DesignRequested",
        actor="tim",
        reason="refused",
    )
    assert saved is None and await workflows.get("octo/repo", 3) is None
    assert transition.actions == refusal
    history = await workflows.history("octo/repo", 3)
    assert [t.reason for t in history] == ["refused"]


async def test_a_pull_review_and_a_check_run_action_round_trip(store: Store) -> None:
    workflows = WorkflowStore(store)
    review = Workflow(
        "octo/repo",
        5,
        41,
        Stage.REVIEWING,
        kind=WorkflowKind.PULL,
        pr_number=41,
        head_sha="a" * 40,
        from_fork=True,
        review_round=1,
    )
    check = SetCheckRun("a" * 40, "t", "s", "action_required", buttons=("accept",))
    saved, _transition = await workflows.apply(
        "octo/repo", 41, None, review, (check,), source="d", cause="c", actor=None, reason="r"
    )
    found = await workflows.get("octo/repo", 41)
    assert found == saved and found is not None and found.kind is WorkflowKind.PULL
    assert found.from_fork
    assert (await workflows.pending("octo/repo", 41))[0].actions == (check,)
