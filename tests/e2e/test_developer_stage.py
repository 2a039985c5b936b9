"""The approved design becomes one commit and a PR; CI failures come back for a fix."""

from __future__ import annotations

from collections.abc import Mapping

from bot.workflow.model import Stage
from tests.e2e.conftest import CONTRIBUTOR, MAINTAINER, REPO
from tests.e2e.helpers import (
    approved_issue,
    bot_comments,
    branch_commits,
    implementation,
    with_schema,
    workflow_of,
)
from triad_lab.simulator import demo_repo
from triad_lab.simulator.stack import TriadStack

LABEL_GATE = {".github/triad.yml": "gates:\n  review: label\n"}


def configure(stack: TriadStack, files: Mapping[str, str | None]) -> None:
    stack.github.push(REPO, "main", MAINTAINER, files, "Configure Triad")


def fail_ci(stack: TriadStack, sha: str, log: str = "E   AssertionError: spin(-1)") -> None:
    stack.github.complete_checks(
        REPO,
        sha,
        "failure",
        runs=[
            {
                "name": "test",
                "conclusion": "failure",
                "title": "1 test failed",
                "summary": "pytest",
                "text": f"collected 2 items\n{log}\n",
                "annotations": [
                    {"path": "widgets/core.py", "start_line": 5, "message": "wrong direction"}
                ],
            }
        ],
    )


async def test_approval_opens_one_draft_pr_with_one_commit(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    number = await approved_issue(stack)
    repo = stack.github.repo(REPO)
    [pr] = repo.pulls.values()
    body = repo.issues[pr.number].body or ""
    assert pr.head_ref == f"triad/issue-{number}" and pr.draft
    assert f"Closes #{number}" in body and "design v1" in body
    assert "- [x] **1.**" in body and "- [x] **2.**" in body
    [message] = branch_commits(stack, pr.head_ref)
    assert "Triad-Round: 1" in message
    # the commit changed exactly the planned files
    assert stack.github.file_at(REPO, pr.head_ref, "README.md") != demo_repo.FILES["README.md"]
    [progress] = bot_comments(stack, number, "progress")
    assert f"#{pr.number}" in progress and "testing" in progress
    assert (await workflow_of(stack, number)).stage is Stage.TESTING


async def test_ci_failure_gets_a_root_cause_fix_on_top(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    number = await approved_issue(stack)
    first = (await workflow_of(stack, number)).head_sha
    assert first is not None
    fail_ci(stack, first)
    await stack.settle()
    fixed = await workflow_of(stack, number)
    assert fixed.round == 2 and fixed.ci_fixes == 1 and fixed.head_sha != first
    assert fixed.head_sha is not None
    assert stack.github.world.objects.read_commit(fixed.head_sha).parents == (first,)
    # the fix round saw the failing check, its annotation and its log
    fix_request = stack.model_server.requests[-1].text
    assert "wrong direction" in fix_request and "spin(-1)" in fix_request
    assert "root cause" in fix_request.lower()
    stack.github.complete_checks(REPO, fixed.head_sha, "success")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.AWAITING_REVIEW
    [pr] = stack.github.repo(REPO).pulls.values()
    assert "| 2 | ci |" in (stack.github.repo(REPO).issues[pr.number].body or "")


async def test_ci_that_never_passes_escalates_to_a_human(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    number = await approved_issue(stack)
    for _ in range(3):
        fail_ci(stack, (await workflow_of(stack, number)).head_sha or "")
        await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.NEEDS_HUMAN and workflow.ci_fixes == 2 and workflow.round == 3
    [pr] = stack.github.repo(REPO).pulls.values()
    assert "needs-human" in stack.github.labels_on(REPO, pr.number)
    [summary] = bot_comments(stack, pr.number, f"ci-exhausted:{workflow.head_sha}")
    assert "2 fix attempt" in summary


async def test_both_ci_deliveries_and_a_redelivery_make_one_fix(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    number = await approved_issue(stack)
    fail_ci(stack, (await workflow_of(stack, number)).head_sha or "")
    await stack.settle()
    suite = next(d for d in stack.github.deliveries if d.event == "check_suite")
    stack.github.redeliver(suite.id)
    await stack.settle()
    assert (await workflow_of(stack, number)).round == 2
    [pr] = stack.github.repo(REPO).pulls.values()
    assert len(branch_commits(stack, pr.head_ref)) == 2


async def test_an_edit_that_does_not_apply_gets_one_repair_round(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    bad = implementation(
        {
            "path": "README.md",
            "action": "modify",
            "replacements": [{"search": "text that is not there", "replace": "x"}],
        }
    )
    stack.model_server.script("*", with_schema("Implementation", [bad]))
    number = await approved_issue(stack)
    repair = [r for r in stack.model_server.requests if r.schema_name == "Implementation"][-1]
    assert "search text was not found" in repair.text
    assert (await workflow_of(stack, number)).stage is Stage.TESTING


async def test_a_protected_path_is_refused(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    sneaky = implementation(
        {
            "path": ".github/workflows/ci.yml",
            "action": "modify",
            "reason": "make CI pass",
            "content": "name: CI\n",
        }
    )
    stack.model_server.script("*", with_schema("Implementation", [sneaky, sneaky]))
    number = await approved_issue(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.NEEDS_HUMAN and workflow.pr_number is None
    assert "refs/heads/triad/issue-1" not in stack.github.repo(REPO).refs
    assert any("protected path" in body for body in bot_comments(stack, number))


async def test_a_commit_github_refuses_goes_to_a_human_with_githubs_reason(
    stack: TriadStack,
) -> None:
    configure(stack, LABEL_GATE)
    refusal = "tree.path contains a malformed path component"
    stack.github.fail("POST", rf"^/repos/{REPO}/git/trees$", 422, message=refusal)
    number = await approved_issue(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.NEEDS_HUMAN and workflow.pr_number is None
    said = f"GitHub refused the commit (422): {refusal}"
    assert any(said in body for body in bot_comments(stack, number))


async def test_a_crash_between_commit_and_pr_resumes_with_one_pr(stack: TriadStack) -> None:
    configure(stack, LABEL_GATE)
    stack.github.fail("POST", rf"^/repos/{REPO}/pulls$", 502, times=4)
    number = await approved_issue(stack)
    await stack.settle()
    repo = stack.github.repo(REPO)
    assert len(repo.pulls) == 1
    assert len(branch_commits(stack, f"triad/issue-{number}")) == 1
    assert len([r for r in stack.model_server.requests if r.schema_name == "Implementation"]) == 1
    assert (await workflow_of(stack, number)).stage is Stage.TESTING


async def test_a_repository_without_ci_is_told_so(stack: TriadStack) -> None:
    configure(stack, {".github/workflows/ci.yml": None})
    number = await approved_issue(stack)
    [pr] = stack.github.repo(REPO).pulls.values()
    assert "No CI" in (stack.github.repo(REPO).issues[pr.number].body or "")
    [notice] = bot_comments(stack, pr.number)
    assert "QA has not run" in notice
    assert (await workflow_of(stack, number)).stage is Stage.AWAITING_REVIEW


async def test_fix_command_sends_the_developer_back_with_the_review_comments(
    stack: TriadStack,
) -> None:
    configure(stack, LABEL_GATE)
    number = await approved_issue(stack)
    workflow = await workflow_of(stack, number)
    stack.github.complete_checks(REPO, workflow.head_sha or "", "success")
    await stack.settle()
    pr = workflow.pr_number or 0
    stack.github.submit_review(
        REPO, pr, CONTRIBUTOR, "REQUEST_CHANGES", "Please keep the old default direction."
    )
    stack.github.comment(REPO, pr, MAINTAINER, "/triad fix")
    await stack.settle()
    fixed = await workflow_of(stack, number)
    assert fixed.round == 2 and fixed.stage is Stage.TESTING
    assert "keep the old default direction" in stack.model_server.requests[-1].text


async def test_a_design_the_developer_finds_wrong_goes_back_to_the_architect(
    stack: TriadStack,
) -> None:
    objection = implementation(design_problem="spin() has no direction argument to extend")
    stack.model_server.script("*", with_schema("Implementation", [objection]))
    number = await approved_issue(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.DESIGN_PROPOSED and workflow.design_version == 2
    assert "triad:approved" not in stack.github.labels_on(REPO, number)
    assert any("no direction argument" in body for body in bot_comments(stack, number))
