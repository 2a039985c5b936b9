"""CI results: check suites and runs (with annotations and log text), and commit statuses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs
from triad_lab.simulator.state import ApiError

router = APIRouter()
CHECKS = needs("checks", level="read")
STATUSES = needs("statuses", level="read")
STATUSES_WRITE = needs("statuses", level="write")


def _actions_app(call: Call) -> JSON:
    return render.check_app(call.world.urls, call.world.app.owner, call.world.created_at)


@router.get("/repos/{owner}/{name}/commits/{ref}/check-suites")
def check_suites(owner: str, name: str, ref: str, call: Call = CHECKS) -> JSON:
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        sha = world.resolve(repo, ref)
        commit = world.objects.read_commit(sha)
        pulls = world.pulls_for_sha(repo, sha)
        suites = [
            render.check_suite(world.urls, repo, s, commit, pulls, _actions_app(call))
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
            render.check_run(world.urls, repo, r, pulls, _actions_app(call))
            for r in repo.check_runs.values()
            if r.head_sha == sha
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
            render.check_run(world.urls, repo, repo.check_runs[i], pulls, _actions_app(call))
            for i in suite.run_ids
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
        return render.check_run(world.urls, repo, run, pulls, _actions_app(call))


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
