"""The admin port's guard: TRIAD_ADMIN_TOKEN as a bearer token or a login cookie, and a CSRF
check on every form that changes something.

Without TRIAD_ADMIN_TOKEN the admin port is open (bind it to a private address). With it,
/admin and /metrics need `Authorization: Bearer <token>`, or the HttpOnly cookie the login form
sets (an HMAC of the token, never the token itself). Tokens are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.web.admin_html import escape, page
from bot.web.context import AppContext, Context

router = APIRouter()
COOKIE = "triad_admin"
_PROCESS_KEY = secrets.token_bytes(32)


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


def _session(token: str) -> str:
    return hmac.new(token.encode(), b"triad-admin-session", hashlib.sha256).hexdigest()


def is_admin(request: Request, context: AppContext) -> bool:
    token = context.admin_token
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), _session(token).encode())


async def require_admin(request: Request, context: Context) -> None:
    if not is_admin(request, context):
        raise LoginRequired(request.url.path)


def csrf_token(context: AppContext) -> str:
    """The token every admin form carries; a page from another site cannot know it."""
    key = context.admin_token.encode() if context.admin_token else _PROCESS_KEY
    return hmac.new(key, b"triad-admin-csrf", hashlib.sha256).hexdigest()


async def form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the admin forms have no files)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(body).items()}


async def require_csrf(request: Request, context: Context) -> dict[str, str]:
    """A state-changing form must come from this origin and carry the CSRF token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None or urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-origin form refused")
    fields = await form(request)
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
    fields = await form(request)
    target = _safe_next(fields.get("next", "/admin"))
    token = context.admin_token
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(fields.get("token", "").encode(), token.encode()):
        return RedirectResponse(f"/admin/login?failed=1&next={quote(target)}", status_code=303)
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(COOKIE, _session(token), httponly=True, samesite="strict", path="/")
    return answer


@router.post("/admin/logout")
async def logout(_: CsrfForm) -> Response:
    answer = RedirectResponse("/admin/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/")
    return answer


def _safe_next(target: str) -> str:
    """Only a path on this admin page (never another site) after signing in."""
    return target if target.startswith("/admin") and "//" not in target else "/admin"
