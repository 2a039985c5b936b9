"""What a demo run shows at the end: the timeline, what was made, the gates, the figures."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from bot.store.usage import UsageStore
from bot.store.workflows import Transition, WorkflowStore
from bot.workflow.model import Stage
from triad_lab.demo.driver import REPO, DemoDriver
from triad_lab.simulator.server import Simulator


async def transitions(driver: DemoDriver) -> list[Transition]:
    assert driver.stack.store is not None
    return await WorkflowStore(driver.stack.store).history(REPO, driver.issue)


def gates_honoured(history: list[Transition]) -> dict[str, bool]:
    """Each gate, checked on the recorded transitions (what actually happened)."""
    moves = [t for t in history if t.from_stage != t.to_stage]
    into = {stage: [t for t in moves if t.to_stage == stage] for stage in Stage}
    approved = [t for t in into[Stage.IMPLEMENTING] if t.from_stage == Stage.DESIGN_PROPOSED]
    return {
        "implementation only after a writer's approval": all(
            t.cause == "ApprovalRequested" for t in approved
        )
        and not any(t.from_stage in (Stage.DESIGNING, None) for t in into[Stage.IMPLEMENTING]),
        "review only after CI passed or a writer asked for it": all(
            t.cause in ("ChecksCompleted", "LabelAdded", "ReviewRequested")
            for t in into[Stage.REVIEWING]
        ),
        "done only by a writer's QA label or a person's merge": all(
            t.cause in ("LabelAdded", "PullClosed") for t in into[Stage.DONE]
        ),
        "a human decides after needs-human": all(
            t.cause in ("CommandIssued", "LabelAdded", "DesignRequested", "CheckActionRequested")
            for t in moves
            if t.from_stage == Stage.NEEDS_HUMAN
        ),
        "refusals change nothing": all(
            t.from_stage == t.to_stage for t in history if t.reason.startswith("refused")
        ),
    }


async def usage_by_role(driver: DemoDriver) -> dict[str, dict[str, float]]:
    assert driver.stack.store is not None
    try:
        workflow = await driver.workflow()
    except LookupError:
        return {}
    roles: dict[str, dict[str, float]] = {}
    for record in await UsageStore(driver.stack.store).records(workflow.id or 0):
        role = roles.setdefault(record.role, {"calls": 0, "tokens": 0, "cost": 0.0})
        role["calls"] += 1
        role["tokens"] += record.input_tokens + record.output_tokens
        role["cost"] = round(role["cost"] + record.cost, 6)
    return roles


def github_state(github: Simulator) -> dict[str, Any]:
    """The demo repository as the simulator holds it, for the user to look at."""
    repo = github.repo(REPO)
    objects = github.world.objects
    return {
        "repository": repo.full_name,
        "refs": dict(repo.refs),
        "labels": sorted(label.name for label in repo.labels.values()),
        "issues": [
            {
                "number": issue.number,
                "title": issue.title,
                "is_pull_request": issue.is_pull,
                "state": issue.state,
                "labels": list(issue.labels),
                "comments": [
                    {"author": c.user.login, "body": c.body}
                    for c in repo.comments.values()
                    if c.issue_number == issue.number
                ],
            }
            for issue in repo.issues.values()
        ],
        "pull_requests": [
            {
                "number": pr.number,
                "head": pr.head_ref,
                "draft": pr.draft,
                "commits": [c.message for c in objects.history(pr.head_sha, pr.base_sha)],
                "body": repo.issues[pr.number].body,
            }
            for pr in repo.pulls.values()
        ],
        "reviews": [
            {"pull": r.pull_number, "author": r.user.login, "state": r.state, "body": r.body}
            for r in repo.reviews.values()
        ],
        "review_comments": [
            {"pull": c.pull_number, "path": c.path, "line": c.line, "body": c.body}
            for c in repo.review_comments.values()
        ],
        "check_runs": check_runs(github),
    }


def check_runs(github: Simulator) -> list[dict[str, Any]]:
    """Every check run on the demo repository, CI's and Triad's, with its conclusion."""
    return [
        {
            "name": run.name,
            "app": run.app or "github-actions",
            "head_sha": run.head_sha,
            "status": run.status,
            "conclusion": run.conclusion,
            "title": run.title,
        }
        for run in github.check_runs(REPO)
    ]


def stages(history: list[Transition], started_at: float) -> list[dict[str, Any]]:
    """Each stage the workflow went through: when it began, how long, and how it ended."""
    moves = [t for t in history if t.from_stage != t.to_stage]
    found = []
    for move, following in zip(moves, [*moves[1:], None], strict=True):
        found.append(
            {
                "stage": move.to_stage,
                "began_at": round(move.at - started_at, 3),
                "seconds": round(following.at - move.at, 3) if following else None,
                "outcome": following.reason if following else "(current)",
                "next": following.to_stage if following else None,
            }
        )
    return found


async def health(driver: DemoDriver) -> dict[str, int]:
    """What went wrong under the hood: dead jobs, refused or failed GitHub requests."""
    stack = driver.stack
    dead = await stack.dead_jobs()
    answers = [r.status for r in stack.github.requests if r.caller == "installation"]
    return {
        "dead_jobs": len(dead),
        "github_422": sum(1 for status in answers if status == 422),
        "github_5xx": sum(1 for status in answers if status >= 500),
        "unimplemented_calls": len(stack.github.unimplemented),
    }


async def summary(
    driver: DemoDriver, scenario: str, ok: bool, state_dir: Path, started_at: float
) -> dict[str, Any]:
    history = await transitions(driver)
    gates = gates_honoured(history)
    problems = await health(driver)
    github = driver.stack.github
    repo = github.repo(REPO)
    workflow = None
    with contextlib.suppress(LookupError):
        workflow = await driver.workflow()
    pr = workflow.pr_number if workflow else None
    return {
        "scenario": scenario,
        "ok": ok and all(gates.values()) and not any(problems.values()),
        "stages": stages(history, started_at),
        "problems": problems,
        "steps": [
            {"step": s.name, "ok": s.ok, "seconds": round(s.seconds, 3), "stage": s.stage}
            | ({"problem": s.problem} if s.problem else {})
            for s in driver.steps
        ],
        "github_requests": dict(sorted(github.requests_by_kind(caller="installation").items())),
        "webhooks": dict(Counter(f"{d.event}.{d.action}" for d in github.deliveries)),
        "check_runs": check_runs(github),
        "usage_by_role": await usage_by_role(driver),
        "labels": {
            "issue": list(repo.issues[driver.issue].labels) if driver.issue else [],
            "pull_request": list(repo.issues[pr].labels) if pr else [],
        },
        "gates_honoured": all(gates.values()),
        "gates": gates,
        "state": {
            "database": str(state_dir / "triad.db"),
            "github": str(state_dir / "github.json"),
        },
    }


def timeline(history: list[Transition], started_at: float) -> list[str]:
    lines = []
    for t in history:
        if t.from_stage == t.to_stage and not t.actions:
            continue
        change = f"{t.from_stage or '—'} → {t.to_stage}" if t.from_stage != t.to_stage else "·"
        who = f" ({t.actor})" if t.actor else ""
        lines.append(f"  +{t.at - started_at:6.1f}s  {change:<34} {t.reason}{who}")
    return lines


def write_state(github: Simulator, state_dir: Path) -> Path:
    path = state_dir / "github.json"
    path.write_text(json.dumps(github_state(github), indent=2))
    return path
