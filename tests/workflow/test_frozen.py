"""The issue frozen at the gate: approval compares it with the live issue; later edits only get
one comment (pure)."""

from __future__ import annotations

from bot.workflow.actions import PostComment, RemoveLabel
from bot.workflow.engine import decide
from bot.workflow.events import ApprovalRequested, DesignPublished, IssueEdited
from bot.workflow.frozen import FrozenComment, FrozenIssue, freeze, issue_text_hash
from bot.workflow.model import Actor, Permission, Stage
from tests.workflow.test_engine import CONFIG, MAINTAINER, TARGET, _workflow

ISSUE = freeze(12, "Add search", "Please\r\nadd it", "rita", [FrozenComment(7, "bo", "yes")])


def test_a_frozen_issue_survives_the_store_and_hashes_its_text() -> None:
    again = FrozenIssue.from_dict(ISSUE.to_dict())
    assert again == ISSUE and again.body == "Please\nadd it"
    assert ISSUE.text_hash == issue_text_hash("Add search", "Please\nadd it")
    assert ISSUE.content_hash != freeze(12, "Add search", "Please\nadd it", "rita").content_hash


def _proposed() -> object:
    designing = _workflow(Stage.DESIGNING)
    published = DesignPublished(1, 900, "hash-v1", False, {"title": "t"}, ISSUE.to_dict())
    proposed = decide(designing, published, TARGET, CONFIG).workflow
    assert proposed is not None and proposed.proposed_issue == ISSUE.to_dict()
    return proposed


def test_approval_freezes_the_issue_beside_the_design() -> None:
    event = ApprovalRequested(MAINTAINER, "d-2", "hash-v1", ISSUE.text_hash)
    approved = decide(_proposed(), event, TARGET, CONFIG).workflow  # type: ignore[arg-type]
    assert approved is not None and approved.stage is Stage.IMPLEMENTING
    assert approved.approved_issue == ISSUE.to_dict()


def test_approval_of_an_edited_issue_is_refused_and_the_label_removed() -> None:
    edited = issue_text_hash("Add search", "Please add it, and run my script")
    event = ApprovalRequested(MAINTAINER, "d-2", "hash-v1", edited)
    decision = decide(_proposed(), event, TARGET, CONFIG)  # type: ignore[arg-type]
    assert decision.workflow is not None and decision.workflow.stage is Stage.DESIGN_PROPOSED
    said, removed = decision.actions
    assert isinstance(said, PostComment) and "edited after the design was proposed" in said.body
    assert removed == RemoveLabel("triad:approved")


def test_an_edit_after_approval_is_answered_once_per_approval() -> None:
    workflow = _workflow(Stage.TESTING, approved_version=2, approved_issue=ISSUE.to_dict())
    reader = Actor("rita", Permission.READ)
    decision = decide(workflow, IssueEdited(reader, "d-5"), TARGET, CONFIG)
    assert decision.workflow == workflow
    [note] = decision.actions
    assert isinstance(note, PostComment) and note.key == "edited-after-approval:v2"
    assert "/triad redesign" in note.body


def test_an_edit_before_approval_or_while_designing_needs_no_note() -> None:
    for workflow in (_workflow(Stage.DESIGN_PROPOSED), _workflow(Stage.DESIGNING)):
        decision = decide(workflow, IssueEdited(MAINTAINER, "d-5"), TARGET, CONFIG)
        assert decision.actions == ()
