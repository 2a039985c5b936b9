"""An issue's workflow from start to end on GitHub: closing and reopening the issue, its PR
closed or merged by a person, and Triad's check run (with its buttons) on Triad's own PR."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.workflow.model import Stage
from tests.e2e.conftest import MAINTAINER, OUTSIDER, REPO, open_issue
from tests.e2e.helpers import (
    approved_issue,
    green_pr,
    review_answer,
    reviewers_answer,
    triad_runs,
    workflow_of,
)
from triad_lab.simulator.model_server import ModelRequest, ScriptItem
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

HIGH = {
    "path": "widgets/core.py",
    "line": 7,
    "severity": "high",
    "category": "bug",
    "message": "spin(-1) loops forever",
}


def said(stack: TriadStack, number: int, prefix: str) -> list[str]:
    return [
        c.body
        for c in stack.github.comments_on(REPO, number)
        if c.user.login == "triad[bot]" and f"<!-- triad:{prefix}" in c.body
    ]


async def until_stage(stack: TriadStack, number: int, stage: Stage, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (await workflow_of(stack, number)).stage is not stage:
        assert time.monotonic() < deadline, f"never {stage}"
        await asyncio.sleep(0.05)


async def test_closing_the_issue_stops_it_and_the_running_architect_does_nothing(
    stack: TriadStack,
) -> None:
    asked, release = threading.Event(), threading.Event()
    scripted = ScriptedModels()

    def respond(request: ModelRequest) -> ScriptItem:
        if request.schema_name == "DesignProposal":
            asked.set()
            release.wait(30)
        return scripted(request)

    stack.model_server.script("*", respond)
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    assert await asyncio.to_thread(asked.wait, 30)
    stack.github.close_issue(REPO, number, MAINTAINER)
    await until_stage(stack, number, Stage.STOPPED)
    release.set()
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.STOPPED
    [closed] = said(stack, number, "closed:")
    assert "closed this issue" in closed and "`triad:design`" in closed
    assert stack.github.labels_on(REPO, number) == []
    [design] = said(stack, number, "design")
    assert "was not written" in design  # the job that was running proposed nothing


async def test_a_reopened_issue_stays_stopped_until_a_writer_starts_it_again(
    stack: TriadStack,
) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.close_issue(REPO, number, OUTSIDER)  # whoever may close it stops it
    await stack.settle()
    stack.github.reopen_issue(REPO, number, MAINTAINER)
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.STOPPED
    stack.github.close_issue(REPO, number, OUTSIDER)
    stack.github.reopen_issue(REPO, number, OUTSIDER)  # the same stop: nothing new to say
    await stack.settle()
    [reopened] = said(stack, number, "reopened:")
    assert "stays stopped" in reopened and "`triad:design`" in reopened
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert (workflow.stage, workflow.design_version) == (Stage.DESIGN_PROPOSED, 2)


async def test_removing_the_design_label_does_not_cancel(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.remove_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED
    [unlabeled] = [d for d in stack.github.deliveries if d.action == "unlabeled"]
    assert unlabeled.status == 202  # dropped at the door


async def test_triads_pr_closed_without_merging_stops_the_workflow_with_a_comment(
    stack: TriadStack,
) -> None:
    number, pr = await green_pr(stack)
    stack.github.close_issue(REPO, pr, MAINTAINER)
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.STOPPED
    [closed] = said(stack, number, "pr-closed:")
    assert f"#{pr}" in closed
    assert "triad:ready-for-qa" not in stack.github.labels_on(REPO, pr)


async def test_triads_pr_merged_by_a_person_is_done(stack: TriadStack) -> None:
    number, pr = await green_pr(stack)
    stack.github.mark_ready(REPO, pr, MAINTAINER)
    stack.github.merge_pull(REPO, pr, MAINTAINER)
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.DONE
    assert stack.github.repo(REPO).issues[number].state == "closed"  # "Closes #N"
    assert said(stack, number, "closed:") == []  # closed by the merge: done, not stopped


async def test_triads_check_run_passes_when_both_approve_and_when_qa_passes(
    stack: TriadStack,
) -> None:
    number, pr = await green_pr(stack)
    head = (await workflow_of(stack, number)).head_sha or ""
    [run] = triad_runs(stack, head)
    assert (run.name, run.conclusion, run.external_id) == ("Triad", "success", str(number))
    assert "Acceptance criteria" in (run.summary or "")
    stack.github.add_label(REPO, pr, MAINTAINER, "triad:qa-passed")
    await stack.settle()
    [run] = triad_runs(stack, head)
    assert run.conclusion == "success" and run.title == "QA passed (@alice)"
    # Triad's own check run is not CI: it never held the verdict on the head back
    assert (await workflow_of(stack, number)).stage is Stage.DONE


async def test_at_needs_human_only_a_writer_sends_triads_pr_back_with_the_button(
    stack: TriadStack,
) -> None:
    reviewers_answer(stack, [review_answer("approve")], [review_answer("request_changes", HIGH)])
    number, pr = await green_pr(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.NEEDS_HUMAN
    head = workflow.head_sha or ""
    [run] = triad_runs(stack, head)
    assert run.conclusion == "action_required"
    assert [a["label"] for a in run.actions] == ["Accept as is", "Send back"]
    stack.github.click_check_action(REPO, run.id, OUTSIDER, "send-back")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.NEEDS_HUMAN
    stack.github.click_check_action(REPO, run.id, MAINTAINER, "send-back")
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.round == 2 and workflow.stage is Stage.TESTING
    [sent] = triad_runs(stack, head)
    assert sent.conclusion == "failure" and "Sent back to the developer by @alice" in (
        sent.summary or ""
    )
    assert "needs-human" not in stack.github.labels_on(REPO, pr)


async def test_accept_as_is_on_triads_pr_goes_to_qa(stack: TriadStack) -> None:
    reviewers_answer(stack, [review_answer("approve")], [review_answer("request_changes", HIGH)])
    number, pr = await green_pr(stack)
    head = (await workflow_of(stack, number)).head_sha or ""
    [run] = triad_runs(stack, head)
    stack.github.click_check_action(REPO, run.id, MAINTAINER, "accept")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.READY_FOR_QA
    assert "triad:ready-for-qa" in stack.github.labels_on(REPO, pr)
    assert triad_runs(stack, head)[-1].conclusion == "success"


async def test_re_run_of_triads_check_and_triad_review_review_its_pr_again(
    stack: TriadStack,
) -> None:
    number, pr = await green_pr(stack)
    head = (await workflow_of(stack, number)).head_sha or ""
    [run] = triad_runs(stack, head)
    stack.github.rerun_check(REPO, run.id, MAINTAINER)
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert (workflow.stage, workflow.review_round) == (Stage.READY_FOR_QA, 2)
    stack.github.comment(REPO, pr, MAINTAINER, "/triad review")
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert (workflow.stage, workflow.review_round) == (Stage.READY_FOR_QA, 3)
    assert [r.conclusion for r in triad_runs(stack, head)] == ["success"] * 3


async def test_triad_review_before_the_pr_exists_says_there_is_nothing_yet(
    stack: TriadStack,
) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.comment(REPO, number, MAINTAINER, "/triad review")
    await stack.settle()
    assert len(said(stack, number, "nothing:")) == 1
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED


async def test_closing_the_issue_of_a_running_review_cancels_its_check(stack: TriadStack) -> None:
    number = await approved_issue(stack)
    asked, release = threading.Event(), threading.Event()
    scripted = ScriptedModels()

    def respond(request: ModelRequest) -> ScriptItem:
        if request.schema_name == "ReviewAnswer":
            asked.set()
            release.wait(30)
        return scripted(request)

    stack.model_server.script("*", respond)
    head = (await workflow_of(stack, number)).head_sha or ""
    stack.github.complete_checks(REPO, head, "success")
    assert await asyncio.to_thread(asked.wait, 30)
    stack.github.close_issue(REPO, number, MAINTAINER)
    await until_stage(stack, number, Stage.STOPPED)
    release.set()
    await stack.settle()
    pr = (await workflow_of(stack, number)).pr_number or 0
    assert [r for r in stack.github.repo(REPO).reviews.values() if r.pull_number == pr] == []
    [run] = triad_runs(stack, head)
    assert run.conclusion == "cancelled"
