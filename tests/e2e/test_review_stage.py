"""Two blind reviewers post their own reviews; agreement decides QA, a fix round or a human."""

from __future__ import annotations

import threading

from bot.workflow.model import Stage
from tests.e2e.conftest import MAINTAINER, OUTSIDER, REPO
from tests.e2e.helpers import (
    asked_by,
    bot_comments,
    green_pr,
    implementation,
    review_answer,
    reviewers_answer,
    with_schema,
    workflow_of,
)
from triad_lab.simulator.model_server import ModelRequest, ScriptItem
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

CHANGE = {
    "path": "widgets/core.py",
    "line": 7,
    "severity": "medium",
    "category": "spec_mismatch",
    "message": "the direction argument is missing from spin",
}


def reviews_on(stack: TriadStack, pr: int) -> list[str]:
    return [r.body for r in stack.github.repo(REPO).reviews.values() if r.pull_number == pr]


async def test_both_approve_and_qa_passes(stack: TriadStack) -> None:
    number, pr = await green_pr(stack)
    bodies = reviews_on(stack, pr)
    assert len(bodies) == 2
    assert any("Reviewer A — claude" in b and "(anthropic)" in b for b in bodies)
    assert any("Reviewer B — gpt" in b and "(openai)" in b for b in bodies)
    assert all("✅ approves" in b for b in bodies)
    assert "triad:ready-for-qa" in stack.github.labels_on(REPO, pr)
    assert (await workflow_of(stack, number)).stage is Stage.READY_FOR_QA
    stack.github.add_label(REPO, pr, OUTSIDER, "triad:qa-passed")
    await stack.settle()
    assert "triad:qa-passed" not in stack.github.labels_on(REPO, pr)
    stack.github.add_label(REPO, pr, MAINTAINER, "triad:qa-passed")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DONE
    assert stack.github.repo(REPO).pulls[pr].draft is False
    assert "triad:ready-for-qa" not in stack.github.labels_on(REPO, pr)


async def test_qa_failed_sends_the_developer_back_with_the_comment(stack: TriadStack) -> None:
    number, pr = await green_pr(stack)
    stack.github.comment(REPO, pr, MAINTAINER, "Spinning backwards twice hangs the widget.")
    stack.github.add_label(REPO, pr, MAINTAINER, "triad:qa-failed")
    await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.round == 2 and workflow.stage is Stage.TESTING
    fix = [r for r in stack.model_server.requests if r.schema_name == "Implementation"][-1]
    assert "hangs the widget" in fix.text


async def test_the_same_changes_asked_by_both_go_back_to_the_developer(
    stack: TriadStack,
) -> None:
    changes = review_answer("request_changes", CHANGE)
    reviewers_answer(stack, [changes], [changes | {"summary": "B"}])
    number, pr = await green_pr(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.review_fixes == 1 and workflow.stage is Stage.TESTING
    fix = [r for r in stack.model_server.requests if r.schema_name == "Implementation"][-1]
    assert "direction argument is missing" in fix.text
    stack.github.complete_checks(REPO, workflow.head_sha or "", "success")
    await stack.settle()
    bodies = reviews_on(stack, pr)
    assert len(bodies) == 4
    assert sum("Since the last review" in b for b in bodies) == 2
    assert (await workflow_of(stack, number)).stage is Stage.READY_FOR_QA


async def test_a_repeated_finding_is_not_commented_twice(stack: TriadStack) -> None:
    # the scripted developer appends line 9 to the README: a line in the diff
    changes = review_answer("request_changes", CHANGE | {"path": "README.md", "line": 9})
    reviewers_answer(stack, [changes, changes], [changes, changes])
    number, pr = await green_pr(stack)
    workflow = await workflow_of(stack, number)
    stack.github.complete_checks(REPO, workflow.head_sha or "", "success")
    await stack.settle()
    notes = [n for n in stack.github.repo(REPO).review_comments.values() if n.pull_number == pr]
    # one inline comment per reviewer on that line, across both rounds
    assert len(notes) == 2 and {n.line for n in notes} == {9}
    assert sum("not repeated" in b for b in reviews_on(stack, pr)) == 2


async def test_disagreement_asks_a_human_side_by_side(stack: TriadStack) -> None:
    high = CHANGE | {"severity": "high", "category": "bug", "message": "spin(-1) loops forever"}
    reviewers_answer(stack, [review_answer("approve")], [review_answer("request_changes", high)])
    number, pr = await green_pr(stack)
    workflow = await workflow_of(stack, number)
    assert workflow.stage is Stage.NEEDS_HUMAN
    assert "needs-human" in stack.github.labels_on(REPO, pr)
    [comment] = bot_comments(stack, pr, f"disagreement:{workflow.head_sha}")
    assert "| Reviewer A | Reviewer B |" in comment and "loops forever" in comment
    assert "**The question:**" in comment
    stack.github.comment(REPO, pr, MAINTAINER, "/triad resume")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.READY_FOR_QA


async def test_a_finding_outside_the_diff_goes_in_the_body(stack: TriadStack) -> None:
    elsewhere = CHANGE | {"path": "widgets/__init__.py", "line": 1, "message": "docstring stale"}
    answer = review_answer("approve", elsewhere | {"severity": "low"})
    reviewers_answer(stack, [answer], [answer])
    _, pr = await green_pr(stack)
    assert all("docstring stale" in body for body in reviews_on(stack, pr))
    assert not stack.github.repo(REPO).review_comments
    assert all(r.status != 422 for r in stack.github.requests)


async def test_a_3000_line_diff_is_chunked_and_fully_reviewed(stack: TriadStack) -> None:
    stack.github.push(
        REPO, "main", MAINTAINER, {".github/triad.yml": "budget:\n  context_tokens: 8000\n"}, "c"
    )
    rows = "".join(f"ROW_{n:04d} = {n}\n" for n in range(3000))
    # (the plan names README.md: a path outside it would stop the round for a human)
    big = implementation({"path": "README.md", "action": "modify", "content": "# w\n" + rows})
    stack.model_server.script("*", with_schema("Implementation", [big]))
    _, pr = await green_pr(stack)
    for role in ("reviewer_a", "reviewer_b"):
        asked = [r.text for r in asked_by(stack, role)]
        assert len(asked) >= 3
        seen = "\n".join(asked)
        assert all(f"ROW_{n:04d}" in seen for n in range(3000))
        assert "README.md" in seen
    assert len(reviews_on(stack, pr)) == 2


async def test_a_whole_workflow_sends_the_providers_nothing_of_triads_own(
    stack: TriadStack,
) -> None:
    """The reviewers are told apart by provider alone; no request carries an x-triad header."""
    await green_pr(stack)
    a, b = asked_by(stack, "reviewer_a"), asked_by(stack, "reviewer_b")
    assert a and b and {r.api for r in a} != {r.api for r in b}
    sent = {name.lower() for r in stack.model_server.requests for name in r.headers}
    assert {"authorization", "content-type"} <= sent
    assert [name for name in sent if name.startswith("x-triad")] == []


async def test_the_two_reviewers_run_at_the_same_time(stack: TriadStack) -> None:
    both_asking = threading.Barrier(2, timeout=10)
    scripted = ScriptedModels()

    def respond(request: ModelRequest) -> ScriptItem:
        if request.schema_name == "ReviewAnswer":
            both_asking.wait()  # raises if the second reviewer never comes while one waits
        return scripted(request)

    stack.model_server.script("*", respond)
    number, _ = await green_pr(stack)
    assert (await workflow_of(stack, number)).stage is Stage.READY_FOR_QA


async def test_a_repository_that_opts_in_gets_its_pr_merged_at_qa_passed(
    stack: TriadStack,
) -> None:
    stack.github.push(
        REPO, "main", MAINTAINER, {".github/triad.yml": "gates:\n  auto_merge: true\n"}, "opt in"
    )
    number, pr = await green_pr(stack)
    head = (await workflow_of(stack, number)).head_sha
    stack.github.add_label(REPO, pr, MAINTAINER, "triad:qa-passed")
    await stack.settle()
    repo = stack.github.repo(REPO)
    assert repo.pulls[pr].merged and repo.issues[pr].state == "closed"
    merge = stack.github.world.objects.read_commit(repo.refs["refs/heads/main"])
    assert merge.parents[1] == head
    assert repo.issues[number].state == "closed"  # "Closes #N"
    assert (await workflow_of(stack, number)).stage is Stage.DONE
