"""What every endpoint shares: who is calling, what they may do, and GitHub's list paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Body, Depends, Request
from fastapi.responses import JSONResponse

from triad_lab.simulator.state import ApiError, Repository

if TYPE_CHECKING:
    import threading

    from triad_lab.simulator.server import Simulator
    from triad_lab.simulator.world import World

DOCS = "https://docs.github.com/rest"
JSON = dict[str, Any]
AnyBody = Body(default_factory=dict)
#: where the request gate leaves the authenticated caller in the ASGI scope
CALLER = "triad.caller"
LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the App itself (a JWT) or one installation (a token and its rights)."""

    kind: str  # "app" or "installation"
    installation_id: int | None = None
    permissions: tuple[tuple[str, str], ...] = ()

    def may(self, resource: str, level: str) -> bool:
        granted = dict(self.permissions).get(resource, "none")
        return LEVELS[granted] >= LEVELS[level]


@dataclass
class Call:
    """One request's view of the simulator; endpoints act on `world` while holding `lock`."""

    sim: Simulator
    request: Request
    caller: Caller

    @property
    def world(self) -> World:
        return self.sim.world

    @property
    def lock(self) -> threading.RLock:
        return self.sim.lock

    @property
    def actor(self) -> str:
        """An installation token acts as the App's bot user."""
        return self.world.app.bot.login

    def repo(self, owner: str, name: str) -> Repository:
        """The repository, if the calling installation may see it (GitHub answers 404)."""
        repo = self.world.repo(f"{owner}/{name}")
        installed = self.world.installations.get(self.caller.installation_id or 0)
        if installed is None or repo.full_name not in installed.repositories:
            raise ApiError(404, "Not Found")
        return repo

    def paged(self, items: list[Any]) -> JSONResponse:
        """One page of `items`, with GitHub's Link header (absolute URLs)."""
        per_page = min(max(_number(self.request, "per_page", 30), 1), 100)
        page = max(_number(self.request, "page", 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", last)):
            if (rel in {"prev", "first"} and page > 1) or (rel in {"next", "last"} and page < last):
                url = self.request.url.include_query_params(page=number)
                links.append(f'<{url}>; rel="{rel}"')
        headers = {"link": ", ".join(links)} if links else {}
        return JSONResponse(chunk, headers=headers)


def _number(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            422, f"Invalid request.\n\nFor 'properties/{name}', \"{raw}\" is not an integer."
        ) from None


def _caller(request: Request) -> Caller:
    found: Caller | None = request.scope.get(CALLER)
    if found is None:  # the gate runs first; without it every endpoint is closed
        raise ApiError(401, "Requires authentication")
    return found


def needs(*resources: str, level: str) -> Any:
    """An installation token with `level` on one of `resources` (GitHub's App permissions).

    GitHub answers a JWT with 403 on installation endpoints, and a token without the
    permission with 403 "Resource not accessible by integration".
    """

    def dependency(request: Request) -> Call:
        caller = _caller(request)
        if caller.kind != "installation":
            raise ApiError(
                403, "A JSON web token cannot be used to access this resource; use a token."
            )
        if not any(caller.may(resource, level) for resource in resources):
            raise ApiError(403, "Resource not accessible by integration")
        return Call(request.app.state.sim, request, caller)

    return Depends(dependency)


def as_anyone() -> Any:
    """No credentials needed (web pages, the manifest conversion, the scripting API)."""

    def dependency(request: Request) -> Call:
        caller = request.scope.get(CALLER) or Caller("anonymous")
        return Call(request.app.state.sim, request, caller)

    return Depends(dependency)


def as_app() -> Any:
    """The App's own JWT (the /app endpoints refuse installation tokens with 403)."""

    def dependency(request: Request) -> Call:
        caller = _caller(request)
        if caller.kind != "app":
            raise ApiError(403, "A JSON web token is required to access this endpoint.")
        return Call(request.app.state.sim, request, caller)

    return Depends(dependency)


#: the most characters GitHub keeps in a comment's, a pull request's or a review's body
MAX_BODY = 65536


def within_limit(body: str, resource: str) -> str:
    """`body`, or GitHub's 422 when it is longer than `MAX_BODY` characters."""
    if len(body) > MAX_BODY:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": resource,
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {MAX_BODY} characters)",
                }
            ],
        )
    return body
