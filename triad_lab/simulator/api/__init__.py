"""The simulator's REST API: the endpoints Triad uses, answering as GitHub answers.

Status codes, error bodies, rate-limit headers and Link pagination follow GitHub's. Every
request passes one gate after routing: authentication, then any injected fault, so the request
log names the caller and route of a faulted call too. Each endpoint then checks the App's
permission for what it touches. An endpoint the simulator does not implement answers 404 like
GitHub and is kept in `Simulator.unimplemented`; a crash answers a GitHub-style 500 and is kept
in `Simulator.errors`, so a test notices either.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from triad_lab.simulator.api import (
    actions,
    app,
    checks,
    contents,
    git,
    graphql,
    issues,
    manifest,
    people,
    pulls,
    scripting,
)
from triad_lab.simulator.api.auth import authenticate
from triad_lab.simulator.api.common import CALLER, DOCS, JSON
from triad_lab.simulator.faults import RATE_LIMIT, Fault, FaultInjected
from triad_lab.simulator.state import ApiError

if TYPE_CHECKING:
    from triad_lab.simulator.server import Simulator

log = logging.getLogger(__name__)

ROUTERS = (app, contents, git, issues, pulls, checks, actions, graphql, manifest, people, scripting)
#: served without credentials: signed blob URLs, the web pages, the manifest conversion and
#: the scripting API (`/_simulator`)
PUBLIC = ("/_simulator/", manifest.WEB + "/", "/app-manifests/")
#: where the gate leaves a fault that acts once the request was served
AFTER = "triad.fault_after"
#: a held request goes on by itself after this long (a harness that forgot it)
HOLD_LIMIT = 60.0


def create_api(sim: Simulator) -> FastAPI:
    """The REST app over `sim` (its world, lock, faults and request log)."""

    def gate(request: Request) -> None:
        """Authenticate, then apply a fault: after routing, before the endpoint. A public
        endpoint (the manifest conversion) takes no credentials, and may fail as well."""
        if request.url.path.startswith(("/_simulator/", scripting.PREFIX)):  # the harness
            return
        if not request.url.path.startswith(PUBLIC):
            request.scope[CALLER] = authenticate(sim, request.headers.get("authorization", ""))
        fault = sim.faults.take(request.method, request.url.path)
        if fault is None:
            return
        if fault.latency:
            time.sleep(fault.latency)  # a sync dependency runs in a worker thread
        if fault.hold == "before":
            held = sim.faults.hold(request.method, request.url.path, "before")
            held.released.wait(HOLD_LIMIT)
            raise FaultInjected(502, "Bad Gateway", {})
        if fault.after or fault.hold == "after":
            request.scope[AFTER] = fault
            return
        if fault.status:
            raise fault.served()

    api = FastAPI(
        title="GitHub simulator",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(gate)],
    )
    api.state.sim = sim
    for module in ROUTERS:
        api.include_router(module.router)

    @api.middleware("http")
    async def around(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            response = await call_next(request)
        except Exception as exc:  # any crash is GitHub's 500, and is kept
            log.exception("simulator: %s %s crashed", request.method, request.url.path)
            sim.errors.append(f"{request.method} {request.url.path}: {exc!r}")
            body = {"message": "Server Error", "documentation_url": DOCS, "status": "500"}
            response = JSONResponse(body, status_code=500)
        after: Fault | None = request.scope.get(AFTER)
        if after is not None:
            response = await _after_serving(sim, request, after, response)
        caller = request.scope.get(CALLER)
        used = sim.count_request(caller.installation_id if caller else None)
        limits = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": f"SIM:{sim.request_count():08X}",
        }
        response.headers.update({k: v for k, v in limits.items() if k not in response.headers})
        if request.url.path.startswith(scripting.PREFIX):
            return response  # the harness's calls are not GitHub's traffic
        route = request.scope.get("route")
        template = _template(route.path) if route is not None else request.url.path
        peer = f"{request.client.host}:{request.client.port}" if request.client else ""
        sim.record(request.method, request.url.path, response.status_code, caller, template, peer)
        return response

    @api.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body: JSON = {"message": exc.message, "documentation_url": DOCS, "status": str(exc.status)}
        if exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @api.exception_handler(FaultInjected)
    async def faulted(_request: Request, exc: FaultInjected) -> JSONResponse:
        body = {"message": exc.message, "documentation_url": DOCS, "status": str(exc.status)}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @api.exception_handler(HTTPException)
    async def unknown(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code in {404, 405}:
            sim.unimplemented.append(f"{request.method} {request.url.path}")
            log.warning(
                "simulator: endpoint not implemented",
                extra={"method": request.method, "path": request.url.path},
            )
            body = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
            return JSONResponse(body, status_code=404)
        body = {"message": str(exc.detail), "documentation_url": DOCS}
        return JSONResponse(body, status_code=exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message = "Invalid request.\n\n" + "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"message": message, "documentation_url": DOCS}, status_code=422)

    return api


async def _after_serving(
    sim: Simulator, request: Request, fault: Fault, response: Response
) -> Response:
    """A request that was served (its write happened): held, or answered with an error."""
    if fault.hold == "after":
        held = sim.faults.hold(request.method, request.url.path, "after")
        await asyncio.to_thread(held.released.wait, HOLD_LIMIT)
    if fault.after:
        served = fault.served()
        body = {"message": served.message, "documentation_url": DOCS, "status": str(served.status)}
        return JSONResponse(body, status_code=served.status, headers=served.headers)
    return response


def _template(path: str) -> str:
    """A route's path as GitHub's docs write it: `{number:int}` → `{number}`."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
