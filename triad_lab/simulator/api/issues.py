"""Issues, their comments and labels (PRs are issues too: the same endpoints serve them).

GitHub lets either the `issues` or the `pull_requests` permission act on a PR through these
endpoints; the simulator accepts either for any number.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs, within_limit
from triad_lab.simulator.state import ApiError

router = APIRouter()
READ = needs("issues", "pull_requests", level="read")
WRITE = needs("issues", "pull_requests", level="write")
CREATE = needs("issues", level="write")


@router.get("/repos/{owner}/{name}/issues/{number:int}")
def get_issue(owner: str, name: str, number: int, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        return render.issue(call.world.urls, repo, call.world.issue(repo.full_name, number))


@router.post("/repos/{owner}/{name}/issues", status_code=201)
def create_issue(owner: str, name: str, payload: JSON = AnyBody, call: Call = CREATE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        if not isinstance(payload.get("title"), str):
            raise ApiError(422, 'Invalid request.\n\n"title" wasn\'t supplied.')
        item = call.world.open_issue(
            repo.full_name,
            call.actor,
            payload["title"],
            payload.get("body") or "",
            _names(payload.get("labels") or []),
        )
        return render.issue(call.world.urls, repo, item)


@router.patch("/repos/{owner}/{name}/issues/{number:int}")
def update_issue(
    owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        for field in ("title", "body", "state"):
            if payload.get(field) is not None and not isinstance(payload[field], str):
                raise ApiError(422, f'Invalid request.\n\n"{field}" must be a string.')
        item = call.world.edit_issue(
            repo.full_name,
            number,
            call.actor,
            title=payload.get("title"),
            body=payload.get("body"),
            state=payload.get("state"),
        )
        return render.issue(call.world.urls, repo, item)


@router.get("/repos/{owner}/{name}/issues/{number:int}/comments")
def list_comments(owner: str, name: str, number: int, call: Call = READ) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        notes = call.world.comments_on(repo.full_name, number)
        return call.paged([render.comment(call.world.urls, repo, n) for n in notes])


@router.post("/repos/{owner}/{name}/issues/{number:int}/comments", status_code=201)
def create_comment(
    owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        body = _body(payload)
        note = call.world.comment(repo.full_name, number, call.actor, body)
        return render.comment(call.world.urls, repo, note)


@router.get("/repos/{owner}/{name}/issues/comments/{comment_id:int}")
def get_comment(owner: str, name: str, comment_id: int, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        note = call.world.find_comment(repo.full_name, comment_id)
        return render.comment(call.world.urls, repo, note)


@router.patch("/repos/{owner}/{name}/issues/comments/{comment_id:int}")
def update_comment(
    owner: str, name: str, comment_id: int, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        note = call.world.edit_comment(repo.full_name, comment_id, call.actor, _body(payload))
        return render.comment(call.world.urls, repo, note)


@router.get("/repos/{owner}/{name}/labels")
def list_labels(owner: str, name: str, call: Call = READ) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        return call.paged([render.label(call.world.urls, repo, i) for i in repo.labels.values()])


@router.get("/repos/{owner}/{name}/labels/{label_name}")
def get_label(owner: str, name: str, label_name: str, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        item = repo.label(label_name)
        if item is None:
            raise ApiError(404, "Not Found")
        return render.label(call.world.urls, repo, item)


@router.post("/repos/{owner}/{name}/labels", status_code=201)
def create_label(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        if not isinstance(payload.get("name"), str):
            raise ApiError(422, 'Invalid request.\n\n"name" wasn\'t supplied.')
        item = call.world.create_label(
            repo.full_name,
            payload["name"],
            payload.get("color") or "ededed",
            payload.get("description"),
        )
        return render.label(call.world.urls, repo, item)


@router.post("/repos/{owner}/{name}/issues/{number:int}/labels")
def add_labels(
    owner: str, name: str, number: int, payload: Any = AnyBody, call: Call = WRITE
) -> list[JSON]:
    with call.lock:
        repo = call.repo(owner, name)
        names = payload.get("labels") if isinstance(payload, dict) else payload
        item = call.world.add_labels(repo.full_name, number, call.actor, _names(names))
        labels: list[JSON] = render.issue(call.world.urls, repo, item)["labels"]
        return labels


@router.delete("/repos/{owner}/{name}/issues/{number:int}/labels/{label_name}")
def remove_label(
    owner: str, name: str, number: int, label_name: str, call: Call = WRITE
) -> list[JSON]:
    with call.lock:
        repo = call.repo(owner, name)
        item = call.world.remove_label(repo.full_name, number, call.actor, label_name)
        labels: list[JSON] = render.issue(call.world.urls, repo, item)["labels"]
        return labels


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ApiError(422, 'Invalid request.\n\n"labels" must be a list of names.')
    return value


def _body(payload: JSON) -> str:
    body = payload.get("body")
    if not isinstance(body, str):
        raise ApiError(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
    return within_limit(body, "IssueComment")
