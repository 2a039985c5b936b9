"""What a crash run must leave behind, issue by issue: exactly what a run without crashes leaves
on GitHub (Triad's comments, one PR, one commit per round, two reviews per round, the final
labels), the workflow done, and in the store no transition with undone actions and no dead
letter the workflow was not told of."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.store import Job
from bot.workflow.model import Stage, Workflow

BOT = "triad[bot]"
_MARKER = re.compile(r"<!-- triad:([^>]+?) -->")
_SHA = re.compile(r"\b[0-9a-f]{40}\b")

#: a happy-path issue after a run without crashes: Triad's comments (by marker, a commit
#: written <sha>) on the issue and on its PR, and the labels left on each
ISSUE_COMMENTS = Counter({"design": 1, "progress": 1, "qa-passed:<sha>": 1})
PULL_COMMENTS: Counter[str] = Counter()
ISSUE_LABELS = {"triad:design", "triad:approved"}
PULL_LABELS = {"triad:qa-passed"}
REVIEWERS = ("reviewer_a", "reviewer_b")


@dataclass
class IssueVerdict:
    number: int
    done: bool
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0


def judge_issue(number: int, state: dict[str, Any], workflow: Workflow | None) -> IssueVerdict:
    """Compare one issue on GitHub (the simulator's state) with a run without crashes."""
    done = workflow is not None and workflow.stage is Stage.DONE
    verdict = IssueVerdict(number, done)
    problems = verdict.problems
    if not done:
        problems.append(f"workflow is {workflow.stage if workflow else 'missing'}, not done")
    issues = {issue["number"]: issue for issue in state["issues"]}
    issue = issues[number]
    pulls = [p for p in state["pulls"] if p["head_ref"] == f"triad/issue-{number}"]
    if len(pulls) != 1:
        problems.append(f"{len(pulls)} pull requests from triad/issue-{number}")
        verdict.duplicates += max(0, len(pulls) - 1)
    verdict.duplicates += _comments(issue, ISSUE_COMMENTS, "issue", problems)
    if set(issue["labels"]) != ISSUE_LABELS:
        problems.append(f"issue labels {sorted(issue['labels'])}")
    if pulls:
        pull = pulls[0]
        verdict.duplicates += _comments(issues[pull["number"]], PULL_COMMENTS, "PR", problems)
        if set(issues[pull["number"]]["labels"]) != PULL_LABELS:
            problems.append(f"PR labels {sorted(issues[pull['number']]['labels'])}")
        rounds = Counter(_round(c["message"]) for c in pull["commits"])
        if rounds != Counter({1: 1}):
            problems.append(f"commits by round {dict(rounds)}")
            verdict.duplicates += sum(n - 1 for n in rounds.values() if n > 1)
        reviews = Counter(
            (_reviewer(r["body"]), r["commit"]) for r in pull["reviews"] if r["author"] == BOT
        )
        wanted = Counter({(role, pull["head_sha"]): 1 for role in REVIEWERS})
        if reviews != wanted:
            problems.append(f"reviews {dict(reviews)}")
            verdict.duplicates += sum(n - 1 for n in reviews.values() if n > 1)
        if pull["draft"] and done:
            problems.append("the PR is still a draft after QA passed")
    progress = [c["body"] for c in issue["comments"] if "<!-- triad:progress -->" in c["body"]]
    if done and progress and "`done`" not in progress[0]:
        problems.append("the progress comment does not say done")
    return verdict


def judge_store(undone: int, dead: list[Job], reported: set[int]) -> list[str]:
    """No transition may keep undone actions; every dead job must have reached its workflow
    (`reported`: told, which asks a human unless the workflow had moved past the job)."""
    problems = []
    if undone:
        problems.append(f"{undone} transitions with undone actions")
    for job in dead:
        if job.id not in reported:
            problems.append(f"dead {job.kind} job {job.id}, NOT reported: {job.last_error}")
    return problems


def _comments(
    issue: dict[str, Any], expected: Counter[str], where: str, problems: list[str]
) -> int:
    mine = [c for c in issue["comments"] if c["author"] == BOT]
    keys: Counter[str] = Counter()
    for comment in mine:
        found = _MARKER.findall(comment["body"])
        if found:
            keys[_SHA.sub("<sha>", found[0])] += 1
        else:
            problems.append(f"an unmarked comment by Triad on the {where}")
    if keys != expected:
        problems.append(f"Triad's comments on the {where}: {dict(keys)}")
    return sum(n - 1 for n in keys.values() if n > 1)


def _round(message: str) -> int | None:
    for line in message.splitlines():
        if line.startswith("Triad-Round:"):
            return int(line.split(":", 1)[1])
    return None


def _reviewer(body: str) -> str | None:
    for key in _MARKER.findall(body):
        for role in REVIEWERS:
            if role in key:
                return role
    return None
