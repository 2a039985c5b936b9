"""The App's own endpoints (its JWT): itself, its installations, installation tokens."""

from __future__ import annotations

import time

from fastapi import APIRouter

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, as_app
from triad_lab.simulator.state import ApiError

router = APIRouter()
APP = as_app()


@router.get("/app")
def get_app(call: Call = APP) -> JSON:
    return render.app(call.world.urls, call.world.app, call.world.created_at)


@router.get("/repos/{owner}/{name}/installation")
def repo_installation(owner: str, name: str, call: Call = APP) -> JSON:
    with call.lock:
        installed = call.world.installation_for(call.world.repo(f"{owner}/{name}"))
        if installed is None:
            raise ApiError(404, "Not Found")
        return render.installation(call.world.urls, call.world.app, installed)


@router.post("/app/installations/{installation_id:int}/access_tokens", status_code=201)
def access_token(installation_id: int, payload: JSON = AnyBody, call: Call = APP) -> JSON:
    asked = payload.get("permissions")
    if asked is not None and not (
        isinstance(asked, dict) and all(isinstance(v, str) for v in asked.values())
    ):
        raise ApiError(422, 'Invalid request.\n\n"permissions" must be an object.')
    with call.lock:
        token = call.world.issue_token(installation_id, asked)
    return {
        "token": token.value,
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expires_at)),
        "permissions": dict(token.permissions),
        "repository_selection": "selected",
    }
