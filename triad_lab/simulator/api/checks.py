"""CI results: check suites and runs (with annotations and log text), commit statuses, and the
App's own check runs (created and updated with `checks: write`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs
from triad_lab.simulator.state import ApiError

router = APIRouter()
CHECKS = needs("checks", level="read")
CHECKS_WRITE = needs("checks", level="write")
STATUSES = needs("statuses", level="read")
STATUSES_WRITE = needs("statuses", level="write")


def _app(call: Call, app: str | None) -> JSON:
    return call.world.app_shape(app)


def _wanted(call: Call, run: Any) -> bool:
    """The list endpoints' filters: check_name, status, app_id (GitHub's query parameters)."""
    query = call.request.query_params
    if query.get("check_name") not in (None, run.name):
        return False
    if query.get("status") not in (None, run.status):
        return False
    app_id = query.get("app_id")
    if app_id is not None:
        return str(_app(call, run.app)["id"]) == app_id
    return True


@router.get("/repos/{owner}/{name}/commits/{ref}/check-suites")
def check_suites(owner: str, name: str, ref: str, call: Call = CHECKS) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        sha = world.resolve(repo, ref)
        commit = world.objects.read_commit(sha)
        pulls = world.pulls_for_sha(repo, sha)
        suites = [
            render.check_suite(world.urls, repo, s, commit, pulls, _app(call, s.app))
            for s in repo.check_suites.values()
            if s.head_sha == sha
        ]
        return {"total_count": len(suites), "check_suites": suites}


@router.get("/repos/{owner}/{name}/commits/{ref}/check-runs")
def check_runs(owner: str, name: str, ref: str, call: Call = CHECKS) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        sha = world.resolve(repo, ref)
        pulls = world.pulls_for_sha(repo, sha)
        runs = [
            render.check_run(world.urls, repo, r, pulls, _app(call, r.app))
            for r in repo.check_runs.values()
            if r.head_sha == sha and _wanted(call, r)
        ]
        return {"total_count": len(runs), "check_runs": runs}


@router.get("/repos/{owner}/{name}/check-suites/{suite_id:int}/check-runs")
def suite_runs(owner: str, name: str, suite_id: int, call: Call = CHECKS) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        suite = repo.check_suites.get(suite_id)
        if suite is None:
            raise ApiError(404, "Not Found")
        pulls = world.pulls_for_sha(repo, suite.head_sha)
        runs = [
            render.check_run(world.urls, repo, repo.check_runs[i], pulls, _app(call, suite.app))
            for i in suite.run_ids
            if _wanted(call, repo.check_runs[i])
        ]
        return {"total_count": len(runs), "check_runs": runs}


@router.get("/repos/{owner}/{name}/check-runs/{run_id:int}")
def get_check_run(owner: str, name: str, run_id: int, call: Call = CHECKS) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        run = repo.check_runs.get(run_id)
        if run is None:
            raise ApiError(404, "Not Found")
        pulls = world.pulls_for_sha(repo, run.head_sha)
        return render.check_run(world.urls, repo, run, pulls, _app(call, run.app))


@router.post("/repos/{owner}/{name}/check-runs", status_code=201)
def create_check_run(
    owner: str, name: str, payload: JSON = AnyBody, call: Call = CHECKS_WRITE
) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        run = world.create_check_run(repo.full_name, payload)
        pulls = world.pulls_for_sha(repo, run.head_sha)
        return render.check_run(world.urls, repo, run, pulls, _app(call, run.app))


@router.patch("/repos/{owner}/{name}/check-runs/{run_id:int}")
def update_check_run(
    owner: str, name: str, run_id: int, payload: JSON = AnyBody, call: Call = CHECKS_WRITE
) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        run = world.update_check_run(repo.full_name, run_id, payload)
        pulls = world.pulls_for_sha(repo, run.head_sha)
        return render.check_run(world.urls, repo, run, pulls, _app(call, run.app))


@router.get("/repos/{owner}/{name}/check-runs/{run_id:int}/annotations")
def check_run_annotations(owner: str, name: str, run_id: int, call: Call = CHECKS) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        run = repo.check_runs.get(run_id)
        if run is None:
            raise ApiError(404, "Not Found")
        return call.paged(
            [render.annotation(call.world.urls, repo, run, a) for a in run.annotations]
        )


@router.get("/repos/{owner}/{name}/commits/{ref}/status")
def combined_status(owner: str, name: str, ref: str, call: Call = STATUSES) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        sha = world.resolve(repo, ref)
        latest: dict[str, Any] = {}
        for item in repo.statuses:
            if item.sha == sha:
                latest[item.context] = item
        states = {s.state for s in latest.values()}
        if states & {"failure", "error"}:
            state = "failure"
        elif "pending" in states or not states:
            state = "pending"
        else:
            state = "success"
        return {
            "state": state,
            "statuses": [render.status(world.urls, repo, s) for s in latest.values()],
            "sha": sha,
            "total_count": len(latest),
            "repository": render.repository(world.urls, repo),
            "commit_url": f"{world.urls.repo(repo)}/commits/{sha}",
            "url": f"{world.urls.repo(repo)}/commits/{sha}/status",
        }


@router.post("/repos/{owner}/{name}/statuses/{sha}", status_code=201)
def create_status(
    owner: str,
    name: str,
    sha: str,
    payload: JSON = AnyBody,
    call: Call = STATUSES_WRITE,
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        item = call.world.create_status(
            repo.full_name,
            sha,
            call.actor,
            state=str(payload.get("state")),
            context=payload.get("context") or "default",
            description=payload.get("description"),
            target_url=payload.get("target_url"),
        )
        return render.status(call.world.urls, repo, item)
