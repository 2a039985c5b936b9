"""Shortcuts for end-to-end tests: drive the issue to a stage, read the workflow."""

from __future__ import annotations

from bot.github.markers import carries
from bot.llm.choice import DEFAULT_CHOICES
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Workflow
from tests.e2e.conftest import CONTRIBUTOR, MAINTAINER, REPO, open_issue
from triad_lab.simulator.model_server import ModelRequest, Responder, ScriptItem
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack
from triad_lab.simulator.state import CheckRun


async def workflow_of(stack: TriadStack, number: int) -> Workflow:
    assert stack.store is not None
    found = await WorkflowStore(stack.store).get(REPO, number)
    assert found is not None
    return found


async def approved_issue(stack: TriadStack) -> int:
    """An issue with an approved design; the developer's first round has run."""
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    await stack.settle()
    return number


def bot_comments(stack: TriadStack, number: int, key: str | None = None) -> list[str]:
    return [
        c.body
        for c in stack.github.comments_on(REPO, number)
        if c.user.login == "triad[bot]" and (key is None or carries(c.body, key))
    ]


def branch_commits(stack: TriadStack, branch: str) -> list[str]:
    """Commit messages on `branch` since the default branch, oldest first."""
    repo = stack.github.repo(REPO)
    objects = stack.github.world.objects
    head = repo.refs[f"refs/heads/{branch}"]
    main = repo.refs["refs/heads/main"]
    return [c.message for c in objects.history(head, main)]


def with_schema(schema: str, answers: list[ScriptItem]) -> Responder:
    """A responder: the first requests for `schema` get `answers`, the rest are scripted."""
    scripted, queue = ScriptedModels(), list(answers)

    def respond(request: ModelRequest) -> ScriptItem:
        if request.schema_name == schema and queue:
            return queue.pop(0)
        return scripted(request)

    return respond


def implementation(*edits: dict[str, object], design_problem: str = "") -> dict[str, object]:
    """A developer answer with these edits (fields the schema requires filled in)."""
    full = [
        {"plan_step": 1, "reason": "", "replacements": [], "content": None} | edit for edit in edits
    ]
    return {
        "summary": "Spin backwards",
        "commit_message": "Add a reverse direction to spin",
        "root_cause": "",
        "design_problem": design_problem,
        "read_first": [],
        "edits": full,
    }


def reviewers_answer(stack: TriadStack, a: list[ScriptItem], b: list[ScriptItem]) -> None:
    """Reviewer A's first requests get `a`, reviewer B's get `b`; the rest are scripted.

    Both ask for a ReviewAnswer: a request tells them apart only by its provider (the default
    choices put the two reviewers on different providers).
    """
    for role, answers in (("reviewer_a", a), ("reviewer_b", b)):
        api = DEFAULT_CHOICES[role].provider
        stack.model_server.script("*", answers, api=api, schema="ReviewAnswer")


def asked_by(stack: TriadStack, role: str) -> list[ModelRequest]:
    """The requests a reviewer sent (see `reviewers_answer`)."""
    api = DEFAULT_CHOICES[role].provider
    return [
        r for r in stack.model_server.requests if r.api == api and r.schema_name == "ReviewAnswer"
    ]


def review_answer(verdict: str, *findings: dict[str, object]) -> dict[str, object]:
    full = [
        {"line": None, "severity": "medium", "category": "bug", "suggestion": None} | finding
        for finding in findings
    ]
    return {
        "verdict": verdict,
        "summary": f"Scripted review: {verdict}.",
        "walkthrough": [],
        "findings": full,
        "criteria": [],
    }


async def green_pr(stack: TriadStack) -> tuple[int, int]:
    """An approved issue whose PR passed CI (so review has run); (issue, PR) numbers."""
    number = await approved_issue(stack)
    workflow = await workflow_of(stack, number)
    stack.github.complete_checks(REPO, workflow.head_sha or "", "success")
    await stack.settle()
    return number, workflow.pr_number or 0


#: a contributor's change for a person's pull request (it closes the demo issue when opened)
SPIN_BACK = (
    '"""Spinning."""\n\n\ndef spin(turns: int, reverse: bool = False) -> int:\n'
    '    """One more turn than asked for; negated when reversed."""\n'
    "    result = turns + 1\n"
    "    return -result if reverse else result\n"
)


def persons_pull(
    stack: TriadStack,
    *,
    author: str = CONTRIBUTOR,
    branch: str = "spin-back",
    files: dict[str, str | None] | None = None,
    body: str = "Spins widgets backwards.",
    draft: bool = False,
    repo: str = REPO,
) -> tuple[int, str]:
    """A person pushes a branch (to `repo`, a fork when it is not REPO) and opens a PR on
    REPO from it; (PR number, head SHA)."""
    sha = stack.github.push(repo, branch, author, files or {"widgets/core.py": SPIN_BACK}, "Back")
    head = branch if repo == REPO else f"{repo.split('/')[0]}:{branch}"
    pr = stack.github.open_pull(
        REPO, author, title="Spin widgets backwards", head=head, base="main", body=body, draft=draft
    )
    return pr.number, sha


def triad_runs(stack: TriadStack, sha: str | None = None) -> list[CheckRun]:
    """Triad's own check runs (on `sha`), oldest first."""
    return [run for run in stack.github.check_runs(REPO, sha) if run.app == "triad"]


def system_of(request: ModelRequest) -> str:
    """A model request's system prompt (the instructions, never the fenced data)."""
    system = request.body.get("system")
    if system is None:  # OpenAI: the first message
        system = request.body["messages"][0]["content"]
    if isinstance(system, list):
        return "\n".join(part.get("text", "") for part in system)
    return str(system)


def reviewer_requests(stack: TriadStack) -> list[ModelRequest]:
    return [r for r in stack.model_server.requests if r.schema_name == "ReviewAnswer"]
