"""The scripting API over HTTP: what people and CI do, for the playground's page.

GitHub's REST API acts as whoever holds the token; here a page acts as any person of the
repository by naming them in the path (`/_simulator/people/{login}/...`), and every action
sends the webhooks GitHub would, exactly as the in-process scripting API does. Reads return
what the page shows: issues, comments, the PR's diff with its inline comments, and checks.
Served without credentials, on loopback only: it is a lab, not GitHub.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from triad_lab.simulator.api.common import JSON, AnyBody, Call, as_anyone
from triad_lab.simulator.state import ApiError

router = APIRouter(prefix="/_simulator")
ANYONE = as_anyone()
PERSON = "/people/{login}/repos/{owner}/{name}"
#: who may add and remove labels on GitHub: triage access or more
_LABELLERS = frozenset({"triage", "write", "maintain", "admin"})


def _text(payload: JSON, key: str, *, required: bool = True) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(422, f"`{key}` must be a non-empty string")
    return value


def _person(call: Call, owner: str, name: str, login: str, *, labels: bool = False) -> str:
    """`login` when that person may act here (`labels`: label issues, as GitHub checks)."""
    with call.lock:
        repo = call.world.repo(f"{owner}/{name}")
        if login not in call.world.users or call.world.users[login].is_bot:
            raise ApiError(404, f"No person {login!r} in the simulator")
        role = call.world.role_of(repo, login)
    if labels and role not in _LABELLERS:
        raise ApiError(
            403, f"{login} has {role} access to {owner}/{name}: labels need triage access"
        )
    return login


@router.post(PERSON + "/issues", status_code=201)
def open_issue(
    login: str, owner: str, name: str, payload: JSON = AnyBody, call: Call = ANYONE
) -> JSON:
    actor = _person(call, owner, name, login)
    issue = call.sim.open_issue(
        f"{owner}/{name}", actor, _text(payload, "title"), _text(payload, "body", required=False)
    )
    return {"number": issue.number}


@router.post(PERSON + "/issues/{number:int}/comments", status_code=201)
def comment(
    login: str, owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = ANYONE
) -> JSON:
    actor = _person(call, owner, name, login)
    made = call.sim.comment(f"{owner}/{name}", number, actor, _text(payload, "body"))
    return {"id": made.id}


@router.post(PERSON + "/issues/{number:int}/labels")
def add_label(
    login: str, owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = ANYONE
) -> JSON:
    actor = _person(call, owner, name, login, labels=True)
    call.sim.add_label(f"{owner}/{name}", number, actor, _text(payload, "name").strip())
    return {"labels": call.sim.labels_on(f"{owner}/{name}", number)}


@router.delete(PERSON + "/issues/{number:int}/labels/{label:path}")
def remove_label(
    login: str, owner: str, name: str, number: int, label: str, call: Call = ANYONE
) -> JSON:
    actor = _person(call, owner, name, login, labels=True)
    call.sim.remove_label(f"{owner}/{name}", number, actor, label)
    return {"labels": call.sim.labels_on(f"{owner}/{name}", number)}


@router.post("/repos/{owner}/{name}/pulls/{number:int}/ci")
def finish_ci(
    owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = ANYONE
) -> JSON:
    """CI (GitHub Actions) finished on the PR's head: `conclusion` and the job's `log`."""
    conclusion = _text(payload, "conclusion")
    if conclusion not in {"success", "failure"}:
        raise ApiError(422, "`conclusion` must be success or failure")
    log = _text(payload, "log", required=False)
    full = f"{owner}/{name}"
    with call.lock:
        pull = call.world.pull(full, number)
        head = pull.head_sha
    lines = log.strip().splitlines()
    runs: list[dict[str, Any]] = [
        {
            "name": "test",
            "conclusion": conclusion,
            "title": "tests passed" if conclusion == "success" else "tests failed",
            "summary": lines[-1] if lines else "",
            "text": log,
            "annotations": [],
        }
    ]
    suite = call.sim.complete_checks(full, head, conclusion, runs=runs)
    return {"check_suite_id": suite.id, "head_sha": head}


@router.get("/repos/{owner}/{name}/people")
def people(owner: str, name: str, call: Call = ANYONE) -> JSON:
    with call.lock:
        repo = call.world.repo(f"{owner}/{name}")
        return {"people": [{"login": k, "role": v} for k, v in repo.collaborators.items()]}


@router.get("/repos/{owner}/{name}/issues")
def issues(owner: str, name: str, call: Call = ANYONE) -> JSON:
    with call.lock:
        repo = call.world.repo(f"{owner}/{name}")
        return {
            "issues": [
                {
                    "number": i.number,
                    "title": i.title,
                    "author": i.user.login,
                    "labels": list(i.labels),
                    "state": i.state,
                    "is_pull": i.is_pull,
                    "updated_at": i.updated_at,
                }
                for i in sorted(repo.issues.values(), key=lambda i: -i.number)
            ],
            "labels": sorted(label.name for label in repo.labels.values()),
        }


@router.get("/repos/{owner}/{name}/issues/{number:int}")
def thread(owner: str, name: str, number: int, call: Call = ANYONE) -> JSON:
    """An issue or PR as its page shows it: text, comments, and for a PR its diff and reviews."""
    full = f"{owner}/{name}"
    with call.lock:
        world = call.world
        repo = world.repo(full)
        issue = world.issue(full, number)
        answer: dict[str, Any] = {
            "number": issue.number,
            "title": issue.title,
            "body": issue.body or "",
            "author": issue.user.login,
            "created_at": issue.created_at,
            "labels": list(issue.labels),
            "state": issue.state,
            "is_pull": issue.is_pull,
            "comments": [
                {"author": c.user.login, "body": c.body, "created_at": c.created_at, "id": c.id}
                for c in world.comments_on(full, number)
            ],
        }
        if issue.is_pull:
            pull = world.pull(full, number)
            answer["pull"] = {
                "head_ref": pull.head_ref,
                "head_sha": pull.head_sha,
                "draft": pull.draft,
                "merged": pull.merged,
                "files": [
                    {"path": change.path, "status": change.status, "patch": change.patch or ""}
                    for change in world.pull_changes(repo, pull)
                ],
                "reviews": [
                    {
                        "id": r.id,
                        "author": r.user.login,
                        "state": r.state,
                        "body": r.body,
                        "submitted_at": r.submitted_at,
                    }
                    for r in repo.reviews.values()
                    if r.pull_number == number and not r.pending
                ],
                "review_comments": [
                    {k: v for k, v in asdict(c).items() if k != "user"} | {"author": c.user.login}
                    for c in repo.review_comments.values()
                    if c.pull_number == number
                    and c.review_id in repo.reviews
                    and not repo.reviews[c.review_id].pending
                ],
                "checks": [
                    {
                        "name": run.name,
                        "conclusion": run.conclusion,
                        "head_sha": run.head_sha,
                        "completed_at": run.completed_at,
                    }
                    for run in repo.check_runs.values()
                    if run.head_sha == pull.head_sha
                ],
            }
        return answer
