"""The simulator's scripting API over HTTP, for a harness in another process (`triad simulator`):
people and CI act, faults are injected, webhooks are redelivered, and state is read back.

Under `/_simulator/`, which GitHub's API never uses, unauthenticated (the simulator listens
on loopback). Each endpoint calls the `Simulator` method a test in the same process would, so
both see the same GitHub.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from triad_lab.simulator.state import ApiError

PREFIX = "/_simulator"
router = APIRouter(prefix=PREFIX)
JSON = dict[str, Any]


def _sim(request: Request) -> Any:
    return request.app.state.sim


class RepositoryBody(BaseModel):
    full_name: str
    files: dict[str, str]
    collaborators: dict[str, str] = Field(default_factory=dict)
    default_branch: str = "main"


class InstallBody(BaseModel):
    account: str
    repositories: list[str]


class IssueBody(BaseModel):
    actor: str
    title: str
    body: str = ""


class LabelBody(BaseModel):
    actor: str
    name: str


class CommentBody(BaseModel):
    actor: str
    body: str


class PushBody(BaseModel):
    branch: str
    actor: str
    files: dict[str, str | None]
    message: str


class ChecksBody(BaseModel):
    sha: str
    conclusion: str
    workflow: str = "CI"


class FaultBody(BaseModel):
    """`Simulator.fail` (status), `fail_after_write` (after), `slow` (latency), or `hold`."""

    method: str = "*"
    path: str = "."
    status: int = 0
    times: int = 1
    after: bool = False
    hold: str | None = None
    latency: float = 0.0
    retry_after: int | None = None


class CountBody(BaseModel):
    count: int = 1


class ReleaseBody(BaseModel):
    id: int | None = None


@router.post("/repositories", status_code=201)
def create_repository(body: RepositoryBody, request: Request) -> JSON:
    _sim(request).create_repository(
        body.full_name,
        body.files,
        default_branch=body.default_branch,
        collaborators=body.collaborators,
    )
    return {"full_name": body.full_name}


@router.post("/installations", status_code=201)
def install(body: InstallBody, request: Request) -> JSON:
    return {"id": _sim(request).install(body.account, body.repositories)}


@router.get("/app")
def app_facts(request: Request) -> JSON:
    sim = _sim(request)
    return {"id": sim.app_id, "bot_login": sim.bot_login, "url": sim.url}


@router.post("/repos/{owner}/{name}/issues", status_code=201)
def open_issue(owner: str, name: str, body: IssueBody, request: Request) -> JSON:
    issue = _sim(request).open_issue(f"{owner}/{name}", body.actor, body.title, body.body)
    return {"number": issue.number}


@router.post("/repos/{owner}/{name}/issues/{number:int}/labels")
def add_label(owner: str, name: str, number: int, body: LabelBody, request: Request) -> JSON:
    _sim(request).add_label(f"{owner}/{name}", number, body.actor, body.name)
    return {"labels": _sim(request).labels_on(f"{owner}/{name}", number)}


@router.post("/repos/{owner}/{name}/issues/{number:int}/comments", status_code=201)
def comment(owner: str, name: str, number: int, body: CommentBody, request: Request) -> JSON:
    made = _sim(request).comment(f"{owner}/{name}", number, body.actor, body.body)
    return {"id": made.id}


@router.post("/repos/{owner}/{name}/push", status_code=201)
def push(owner: str, name: str, body: PushBody, request: Request) -> JSON:
    sha = _sim(request).push(f"{owner}/{name}", body.branch, body.actor, body.files, body.message)
    return {"sha": sha}


@router.post("/repos/{owner}/{name}/checks", status_code=201)
def complete_checks(owner: str, name: str, body: ChecksBody, request: Request) -> JSON:
    suite = _sim(request).complete_checks(
        f"{owner}/{name}", body.sha, body.conclusion, workflow=body.workflow
    )
    return {"id": suite.id}


@router.get("/repos/{owner}/{name}/state")
def state(owner: str, name: str, request: Request) -> JSON:
    return _sim(request).state_of(f"{owner}/{name}")  # type: ignore[no-any-return]


@router.post("/faults", status_code=201)
def add_fault(body: FaultBody, request: Request) -> JSON:
    """Add a fault; its id names it in `/health`'s faults (how often it fired) and to remove."""
    sim = _sim(request)
    if body.hold is not None:
        if body.hold not in ("before", "after"):
            raise ApiError(422, "hold is 'before' or 'after'")
        fault = sim.hold(body.method, body.path, body.hold, times=body.times)
    elif body.after:
        fault = sim.fail_after_write(body.method, body.path, body.status or 502, times=body.times)
    elif body.status:
        fault = sim.fail(
            body.method,
            body.path,
            body.status,
            times=body.times,
            retry_after=body.retry_after,
            latency=body.latency,
        )
    else:
        fault = sim.slow(body.method, body.path, body.latency, times=body.times)
    return {"added": True, "id": fault.id}


@router.delete("/faults")
def clear_faults(request: Request) -> JSON:
    _sim(request).faults.clear()
    return {"cleared": True}


@router.delete("/faults/{fault_id}")
def remove_fault(fault_id: int, request: Request) -> JSON:
    """Forget one pending fault, leaving the others armed."""
    return {"removed": _sim(request).faults.remove(fault_id)}


@router.get("/held")
def held(request: Request) -> list[JSON]:
    return _sim(request).held()  # type: ignore[no-any-return]


@router.post("/held/release")
def release(body: ReleaseBody, request: Request) -> JSON:
    return {"released": _sim(request).release(body.id)}


@router.get("/deliveries")
def deliveries(request: Request) -> list[JSON]:
    return [
        {
            "id": d.id,
            "event": d.event,
            "action": d.action,
            "status": d.status,
            "attempts": d.attempts,
        }
        for d in _sim(request).deliveries
    ]


@router.post("/deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: str, request: Request) -> JSON:
    try:
        _sim(request).redeliver(delivery_id)
    except StopIteration:
        raise ApiError(404, "Not Found") from None
    return {"redelivered": delivery_id}


@router.post("/deliveries/duplicate")
def duplicate(body: CountBody, request: Request) -> JSON:
    _sim(request).duplicate_deliveries(body.count)
    return {"duplicated": body.count}


@router.get("/health")
def health(request: Request) -> JSON:
    sim = _sim(request)
    return {
        "errors": list(sim.errors),
        "unimplemented": list(sim.unimplemented),
        # every fault injected and how many requests it was used for: what actually fired
        "faults": sim.faults.summary(),
        # GitHub's traffic so far: requests, and the TCP connections they came on
        "requests": sim.request_count(),
        "connections": len(sim.connections()),
        "by_kind": dict(sim.requests_by_kind()),
    }
