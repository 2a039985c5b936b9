"""The admin port's guard: a Host allow-list, TRIAD_ADMIN_TOKEN as a bearer token or a login
session, and a CSRF check on every form that changes something.

Without TRIAD_ADMIN_TOKEN the admin port is open, so it may then listen on loopback only (the
runtime refuses to start otherwise). With it, /admin and /metrics need `Authorization: Bearer
<token>`, or the session cookie the login form sets: a random id that expires, that sign-out
revokes, and that is never derived from the token. Tokens are compared in constant time. Any
request but /healthz must name an allowed host (TRIAD_ADMIN_ALLOWED_HOSTS), so a page whose DNS
name is rebound to the admin address cannot read it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.settings import LOOPBACK_HOSTS
from bot.web.admin_html import escape, page
from bot.web.context import AppContext, Context
from bot.web.forms import read_form

router = APIRouter()
COOKIE = "triad_admin"
#: how long a browser stays signed in
SESSION_SECONDS = 12 * 3600
_PROCESS_KEY = secrets.token_bytes(32)


class AdminSessions:
    """Signed-in browsers: random ids and when they expire, in this process's memory (signing
    out, expiry or a restart ends a session; the cookie is then worth nothing)."""

    def __init__(
        self, lifetime: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._expiry: dict[str, float] = {}

    def start(self) -> str:
        now = self.clock()
        self._expiry = {sid: at for sid, at in self._expiry.items() if at > now}
        session = secrets.token_urlsafe(32)
        self._expiry[session] = now + self.lifetime
        return session

    def valid(self, session: str) -> bool:
        return self._expiry.get(session, float("-inf")) > self.clock()

    def end(self, session: str) -> None:
        self._expiry.pop(session, None)


class _HostAllowList:
    """Starlette's TrustedHostMiddleware on every path but /healthz, which says nothing and
    which a platform's health check calls by address."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self._app = app
        self._checked = TrustedHostMiddleware(app, list(allowed_hosts), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz":
            await self._app(scope, receive, send)
        else:
            await self._checked(scope, receive, send)


def guard(app: FastAPI, allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> None:
    """Put the admin app behind the Host allow-list and the token, with its login routes."""
    app.state.admin_sessions = AdminSessions()
    app.include_router(router)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_middleware(_HostAllowList, allowed_hosts=allowed_hosts)


def sessions(request: Request) -> AdminSessions:
    found: AdminSessions = request.app.state.admin_sessions
    return found


class LoginRequired(Exception):
    """No valid token: a browser is sent to the login form, anything else gets 401."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if exc.path.startswith("/admin") and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(f"/admin/login?next={quote(exc.path)}", status_code=303)
    return JSONResponse(
        {"message": "this needs the admin token: Authorization: Bearer <TRIAD_ADMIN_TOKEN>"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def is_admin(request: Request, context: AppContext) -> bool:
    token = context.admin_token
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return sessions(request).valid(request.cookies.get(COOKIE, ""))


async def require_admin(request: Request, context: Context) -> None:
    if not is_admin(request, context):
        raise LoginRequired(request.url.path)


def csrf_token(context: AppContext) -> str:
    """The token every admin form carries; a page from another site cannot know it."""
    key = context.admin_token.encode() if context.admin_token else _PROCESS_KEY
    return hmac.new(key, b"triad-admin-csrf", hashlib.sha256).hexdigest()


async def require_csrf(request: Request, context: Context) -> dict[str, str]:
    """A state-changing form must come from this origin and carry the CSRF token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None or urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-origin form refused")
    fields = await read_form(request)
    if not hmac.compare_digest(fields.get("csrf", "").encode(), csrf_token(context).encode()):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
    return fields


Guarded = Annotated[None, Depends(require_admin)]
CsrfForm = Annotated[dict[str, str], Depends(require_csrf)]


@router.get("/admin/login", response_class=HTMLResponse)
async def login_form(next: str = "/admin", failed: bool = False) -> HTMLResponse:
    message = '<p class="error">That is not the admin token.</p>' if failed else ""
    body = f"""{message}
<form method="post" action="/admin/login" class="login">
  <input type="hidden" name="next" value="{escape(_safe_next(next))}">
  <label>Admin token <input type="password" name="token" autocomplete="current-password"
    autofocus></label>
  <button type="submit">Sign in</button>
</form>"""
    return page("Sign in", body, status=401 if failed else 200)


@router.post("/admin/login")
async def login(request: Request, context: Context) -> Response:
    fields = await read_form(request)
    target = _safe_next(fields.get("next", "/admin"))
    token = context.admin_token
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(fields.get("token", "").encode(), token.encode()):
        return RedirectResponse(f"/admin/login?failed=1&next={quote(target)}", status_code=303)
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(
        COOKIE,
        sessions(request).start(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return answer


@router.post("/admin/logout")
async def logout(request: Request, _: CsrfForm) -> Response:
    """Sign out: the session ends here, not only in this browser."""
    sessions(request).end(request.cookies.get(COOKIE, ""))
    answer = RedirectResponse("/admin/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


def _safe_next(target: str) -> str:
    """Only a path on this admin page (never another site) after signing in."""
    return target if target.startswith("/admin") and "//" not in target else "/admin"
