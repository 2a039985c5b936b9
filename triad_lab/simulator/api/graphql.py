"""GraphQL, for the one mutation REST lacks: marking a draft PR ready for review."""

from __future__ import annotations

import re

from fastapi import APIRouter

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs

router = APIRouter()
MUTATION = "markPullRequestReadyForReview"
#: any installation token; the mutation itself needs pull_requests: write
ANY_TOKEN = needs("pull_requests", "metadata", level="read")


@router.post("/graphql")
def graphql(payload: JSON = AnyBody, call: Call = ANY_TOKEN) -> JSON:
    query = str(payload.get("query", ""))
    variables = payload.get("variables") or {}
    if MUTATION not in query:
        call.sim.unimplemented.append("POST /graphql " + re.sub(r"\s+", " ", query)[:80])
        return {"errors": [{"type": "NOT_SUPPORTED", "message": "not simulated"}]}
    if not call.caller.may("pull_requests", "write"):  # GraphQL answers 200 with an error
        return {
            "data": {MUTATION: None},
            "errors": [
                {
                    "type": "FORBIDDEN",
                    "path": [MUTATION],
                    "message": "Resource not accessible by integration",
                }
            ],
        }
    wanted = variables.get("id") or variables.get("pullRequestId")
    with call.lock:
        installed = call.world.installations.get(call.caller.installation_id or 0)
        for full_name in installed.repositories if installed else []:
            repo = call.world.repo(full_name)
            for pr in repo.pulls.values():
                if render.node_id("PR", pr.id) == wanted:
                    call.world.mark_ready(repo.full_name, pr.number, call.actor)
                    ready = {"pullRequest": {"isDraft": pr.draft, "number": pr.number}}
                    return {"data": {MUTATION: ready}}
    return {
        "data": None,
        "errors": [
            {
                "type": "NOT_FOUND",
                "message": f"Could not resolve to a node with the global id of '{wanted}'",
            }
        ],
    }
