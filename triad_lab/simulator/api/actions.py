"""GitHub Actions job logs: the text of a failed run, as Triad's CI fix round reads it.

GitHub answers `GET .../actions/jobs/{job_id}/logs` with a 302 to a short-lived signed URL on
another host, fetched without the token. The simulator serves that URL under `BLOBS` (the gate
lets it through unauthenticated) and checks its signature and expiry on GitHub's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse

from triad_lab.simulator.api.common import Call, needs
from triad_lab.simulator.state import ApiError, CheckRun

router = APIRouter()
#: stands in for GitHub's log storage host: signed URLs, no Authorization header
BLOBS = "/_simulator/blobs"
URL_LIFETIME = 60
_KEY = secrets.token_bytes(32)
ACTIONS = needs("actions", level="read")


@router.get("/repos/{owner}/{name}/actions/jobs/{job_id:int}/logs")
def job_logs(owner: str, name: str, job_id: int, call: Call = ACTIONS) -> RedirectResponse:
    with call.lock:
        repo = call.repo(owner, name)
        if job_id not in repo.check_runs:
            raise ApiError(404, "Not Found")
        expires = int(call.world.clock()) + URL_LIFETIME
    signature = _sign(repo.id, job_id, expires)
    location = f"{call.world.urls.api}{BLOBS}/job-logs/{repo.id}/{job_id}"
    return RedirectResponse(f"{location}?expires={expires}&sig={signature}", status_code=302)


@router.get(BLOBS + "/job-logs/{repo_id:int}/{job_id:int}")
def job_log_blob(
    request: Request, repo_id: int, job_id: int, expires: int = 0, sig: str = ""
) -> PlainTextResponse:
    sim = request.app.state.sim
    if not hmac.compare_digest(sig, _sign(repo_id, job_id, expires)):
        raise ApiError(403, "Signature does not match")
    with sim.lock:
        if expires < sim.world.clock():
            raise ApiError(403, "Request has expired")
        run = next(
            (
                r.check_runs[job_id]
                for r in sim.world.repos.values()
                if r.id == repo_id and job_id in r.check_runs
            ),
            None,
        )
        if run is None:
            raise ApiError(404, "Not Found")
        return PlainTextResponse(_log_text(run))


def _sign(repo_id: int, job_id: int, expires: int) -> str:
    return hmac.new(_KEY, f"{repo_id}:{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def _log_text(run: CheckRun) -> str:
    """The job's log as Actions writes it: each line after an ISO timestamp."""
    when = datetime.strptime(run.completed_at or run.started_at, "%Y-%m-%dT%H:%M:%SZ")
    stamp = when.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    lines = (run.text or "").splitlines()
    return "".join(f"{stamp} {line}\n" for line in lines)
