"""`triad setup`: register the GitHub App from app.yml in one click and write `.env`.

The page posts app.yml as a manifest to GitHub's new-App page (a personal account's or an
organization's; GitHub Enterprise by its URL). GitHub sends the person back to
`/setup/callback` with a one-time code, exchanged for the App's id, private key, webhook
secret and OAuth client, which go to `.env` (mode 0600, see `bot.web.setup_env`); the page then
links to the App's installation page, and registers nothing more. `triad serve` serves the same
page while no App is configured, on a loopback address only.

The page decides where the App's secrets come from (the GitHub and API URLs) and what `.env`
becomes, so it is guarded like a login form: the form carries a token bound to a SameSite=Strict
cookie, a post from another site is refused (`Origin`, `Sec-Fetch-Site`), and so is any `Host`
the server was not started for (DNS rebinding).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import yaml
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.errors import ConfigError, GitHubError
from bot.github.manifest import RegisteredApp, convert_manifest_code
from bot.web.forms import read_form
from bot.web.same_origin import cross_site_refusal, expected_hosts, host_is_expected, is_loopback
from bot.web.setup_env import (
    UnsafeEnvValue,
    env_block,
    has_control_characters,
    one_line_key,
    write_env,
)
from bot.web.setup_pages import configured_page, document, form_page, message

log = logging.getLogger(__name__)

GITHUB_URL = "https://github.com"
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
#: manifest keys taken from app.yml as they are (the rest is set by the page)
_MANIFEST_KEYS = ("name", "description", "url", "default_events", "default_permissions")
_PENDING_LIFETIME = 3600.0
_CSRF_COOKIE = "triad_setup"
#: a smee.io channel: `https://smee.io/<channel>`
_SMEE_CHANNEL = re.compile(r"^/[A-Za-z0-9_-]+/?$")


@dataclass
class SetupOptions:
    env_file: Path = Path(".env")
    manifest_file: Path = Path("app.yml")
    github_url: str = GITHUB_URL
    #: None: derived from `github_url` (api.github.com, or GitHub Enterprise's /api/v3)
    api_url: str | None = None
    webhook_proxy_url: str | None = None
    overwrite: bool = False
    #: the `Host` values the page answers to (`run_setup` fills them from its address;
    #: empty: any loopback name)
    hosts: frozenset[str] = frozenset()
    #: what to do once `.env` is written
    next_step: str = "stop this page (Ctrl-C) and start <code>triad serve</code>"


@dataclass(frozen=True)
class _Pending:
    github_url: str
    api_url: str
    webhook_proxy_url: str | None
    overwrite: bool
    expires: float


@dataclass
class _SetupState:
    options: SetupOptions
    pending: dict[str, _Pending] = field(default_factory=dict)
    #: signs the form tokens (a token is bound to its browser's cookie)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: the App this page registered: it registers no more
    registered: RegisteredApp | None = None
    #: the App was registered but `.env` could not be written (its lines were shown once)
    unsaved: bool = False

    def form_token(self, cookie: str) -> str:
        return hmac.new(self.key, cookie.encode(), hashlib.sha256).hexdigest()


def api_url_for(github_url: str) -> str:
    """GitHub's API beside its web address: api.github.com, or GitHub Enterprise's /api/v3."""
    url = github_url.rstrip("/")
    if url in {"https://github.com", "http://github.com"}:
        return "https://api.github.com"
    return f"{url}/api/v3"


def read_app_yml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(
            f"cannot read the App manifest {path}: {exc.strerror} (run `triad setup` in Triad's "
            "checkout, or give --manifest)"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict) or not loaded.get("name"):
        raise ConfigError(f"{path} is not an App manifest (it needs at least `name`)")
    return loaded


def build_manifest(app_yml: dict[str, Any], webhook_url: str, page_url: str) -> dict[str, Any]:
    """app.yml as a manifest: its events and permissions, this webhook URL, back to this page."""
    manifest = {key: app_yml[key] for key in _MANIFEST_KEYS if key in app_yml}
    manifest.setdefault("url", page_url)
    manifest["hook_attributes"] = {"url": webhook_url, "active": True}
    manifest["redirect_url"] = f"{page_url}/callback"
    manifest["setup_url"] = f"{page_url}/installed"
    manifest["public"] = False
    return manifest


def env_values(app: RegisteredApp, api_url: str, webhook_proxy_url: str | None) -> dict[str, str]:
    """The settings `.env` gets for the new App (the key as one `\\n`-escaped line)."""
    values = {
        "TRIAD_APP_ID": str(app.id),
        "TRIAD_PRIVATE_KEY": one_line_key(app.pem),
        "TRIAD_WEBHOOK_SECRET": app.webhook_secret,
        "TRIAD_CLIENT_ID": app.client_id,
        "TRIAD_CLIENT_SECRET": app.client_secret,
    }
    if api_url != "https://api.github.com":
        values["TRIAD_GITHUB_API_URL"] = api_url
    if webhook_proxy_url:
        values["TRIAD_WEBHOOK_PROXY_URL"] = webhook_proxy_url
    return values


def env_text(app: RegisteredApp, api_url: str, webhook_proxy_url: str | None) -> str:
    """The lines `.env` gets for the new App (UnsafeEnvValue when one cannot be written)."""
    return env_block(
        env_values(app, api_url, webhook_proxy_url),
        f"for the GitHub App {app.name} ({app.html_url}).",
    )


def is_channel_url(url: str) -> bool:
    """True for a smee.io channel's URL, which `triad serve` relays rather than GitHub posting
    to Triad directly."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.netloc == "smee.io"
        and bool(_SMEE_CHANNEL.match(parts.path))
    )


def create_setup_router(options: SetupOptions) -> APIRouter:
    state = _SetupState(options)
    router = APIRouter(prefix="/setup")

    @router.get("", response_class=HTMLResponse, summary="Register the GitHub App")
    async def page(request: Request) -> Response:
        if state.registered is not None:
            return _configured(state)
        cookie = request.cookies.get(_CSRF_COOKIE) or secrets.token_urlsafe(24)
        answer = _form(state, _page_url(request), state.form_token(cookie))
        _set_cookie(answer, cookie)
        return answer

    @router.post("/register", response_class=HTMLResponse)
    async def register(request: Request) -> Response:
        if state.registered is not None:
            return _configured(state, 409)
        form = await read_form(request)
        refused = cross_site_refusal(request)
        cookie = request.cookies.get(_CSRF_COOKIE, "")
        if refused is None and not (
            cookie and hmac.compare_digest(form.get("csrf", ""), state.form_token(cookie))
        ):
            refused = "the form is stale or was not sent by this page: reload it"
        if refused is not None:
            log.warning("setup: a registration request was refused", extra={"reason": refused})
            return message("Refused", f"<p id='refused'>{html.escape(refused)}.</p>", 403)
        try:
            return _register(state, form, _page_url(request))
        except ConfigError as exc:
            answer = _form(state, _page_url(request), state.form_token(cookie), str(exc))
            _set_cookie(answer, cookie)
            return answer

    @router.get("/callback", response_class=HTMLResponse)
    async def callback(request: Request, code: str = "") -> Response:
        if state.registered is not None:
            return _configured(state, 409)
        given = request.query_params.get("state", "")
        pending = state.pending.get(given)
        if not code or pending is None or pending.expires < time.monotonic():
            return message(
                "Registration not recognised",
                "This answer from GitHub does not match a registration started here (or it "
                "is more than an hour old). Start again from <a href='/setup'>the setup "
                "page</a>.",
                400,
            )
        try:
            app = await convert_manifest_code(pending.api_url, code)
            text = env_text(app, pending.api_url, pending.webhook_proxy_url)
        except (GitHubError, UnsafeEnvValue) as exc:
            if state.registered is not None:  # a reload while the first exchange ran
                return _configured(state)
            # the registration stays pending: GitHub's code is good for an hour, so a reload
            # tries again after an outage
            return message("GitHub's answer was refused", html.escape(str(exc)), 502)
        state.pending.pop(given, None)
        env = state.options.env_file
        try:
            write_env(env, text, overwrite=pending.overwrite)
        except FileExistsError:
            return message(
                ".env already exists",
                f"The App <b>{html.escape(app.name)}</b> was created on GitHub, but "
                f"<code>{html.escape(str(env))}</code> appeared meanwhile and was kept. Delete "
                "the App on GitHub and register again, choosing to replace .env.",
                409,
            )
        except (OSError, UnicodeError) as exc:
            # the App exists on GitHub now, and its key and secrets are shown nowhere else
            state.registered, state.unsaved = app, True
            log.error("setup: .env could not be written", extra={"path": str(env), "error": exc})
            return message(
                ".env could not be written",
                f"<p id='unsaved'>The App <b>{html.escape(app.name)}</b> was created on GitHub, "
                f"but <code>{html.escape(str(env))}</code> could not be written "
                f"({html.escape(str(exc))}). Save these lines as that file yourself, readable "
                "by you only (<code>chmod 600</code>): they hold the App's private key and "
                "secrets, and are shown only this once.</p>"
                f"<pre id='env'>{html.escape(text)}</pre>",
                500,
            )
        state.registered = app
        state.pending.clear()
        log.info(
            "GitHub App registered: .env written",
            extra={"app_id": app.id, "slug": app.slug, "next": _plain(state.options.next_step)},
        )
        install = f"{app.html_url.rstrip('/')}/installations/new"
        return message(
            "GitHub App registered",
            f"<p id='registered'>The App <b>{html.escape(app.name)}</b> (id "
            f"<code>{app.id}</code>) is registered, and <code>{html.escape(str(env))}</code> "
            "holds its id, private key, webhook secret and OAuth client (mode 0600).</p>"
            "<ol><li><a id='install' href='"
            f"{html.escape(install)}'>Install it on a repository</a> (a throwaway one to try "
            f"it).</li><li id='next-step'>Then {state.options.next_step}: it reads "
            "<code>.env</code>"
            + (" and relays the webhook channel" if pending.webhook_proxy_url else "")
            + ".</li></ol>",
        )

    @router.get("/installed", response_class=HTMLResponse)
    async def installed(request: Request) -> HTMLResponse:
        number = request.query_params.get("installation_id", "")
        return message(
            "Installed",
            f"<p id='installed'>The App is installed (installation "
            f"<code>{html.escape(number)}</code>). Label an issue <code>triad:design</code> "
            "to start.</p>",
        )

    return router


def create_setup_app(options: SetupOptions) -> FastAPI:
    app = FastAPI(title="Triad setup", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(create_setup_router(options))
    hosts = options.hosts

    @app.middleware("http")
    async def expected_host_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A name that merely resolves to this address (DNS rebinding) gets nothing."""
        known = host_is_expected(request, hosts) if hosts else _is_loopback_host(request)
        if not known:
            return message(
                "Unexpected host",
                "<p>This page answers only to the address it was started on.</p>",
                421,
            )
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/setup", status_code=303)

    return app


async def run_setup(options: SetupOptions, host: str, port: int) -> None:
    """Serve the setup page until interrupted."""
    import uvicorn

    read_app_yml(options.manifest_file)  # fail at start, not on the first click
    if not options.hosts:
        options.hosts = expected_hosts(host, port)
    config = uvicorn.Config(
        create_setup_app(options), host=host, port=port, log_config=None, access_log=False
    )
    log.info("setup page ready", extra={"url": f"http://{host}:{port}/setup"})
    await uvicorn.Server(config).serve()


def _page_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/setup"


def _is_loopback_host(request: Request) -> bool:
    name = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
    return is_loopback(name)


def _set_cookie(response: Response, cookie: str) -> None:
    response.set_cookie(_CSRF_COOKIE, cookie, httponly=True, samesite="strict", path="/setup")


def _url(form: dict[str, str], name: str, default: str | None, what: str) -> str | None:
    """An http(s) URL from the form (or `default`), without a trailing slash."""
    url = (form.get(name) or "").strip().rstrip("/") or default
    if url is None:
        return None
    parts = urlsplit(url)
    if (
        parts.scheme not in {"https", "http"}
        or not parts.netloc
        or has_control_characters(url)
        or any(ch in url for ch in " \"'<>`")
    ):
        raise ConfigError(f"The {what} must be an http(s) URL")
    return url


def _register(state: _SetupState, form: dict[str, str], page_url: str) -> HTMLResponse:
    options = state.options
    github_url = _url(form, "github_url", options.github_url, "GitHub URL")
    assert github_url is not None
    api_url = _url(form, "api_url", options.api_url, "API URL") or api_url_for(github_url)
    webhook_url = _url(form, "webhook_url", None, "webhook URL")
    if webhook_url is None:
        raise ConfigError("The webhook URL must be an http(s) URL GitHub can reach")
    relayed = webhook_url == options.webhook_proxy_url or is_channel_url(webhook_url)
    proxy = webhook_url if relayed else None
    overwrite = options.overwrite or form.get("overwrite") == "yes"
    if options.env_file.exists() and not overwrite:
        raise ConfigError(
            f"{options.env_file} already exists: tick “Replace the App settings” (or run "
            "`triad setup --force`) to replace them"
        )
    if form.get("owner") == "organization":
        organization = (form.get("organization") or "").strip()
        if not _ORG.match(organization):
            raise ConfigError("Name the organization (its login, e.g. acme)")
        target = f"{github_url}/organizations/{organization}/settings/apps/new"
    else:
        target = f"{github_url}/settings/apps/new"
    manifest = build_manifest(read_app_yml(options.manifest_file), webhook_url, page_url)
    token = secrets.token_urlsafe(16)
    now = time.monotonic()
    state.pending = {k: v for k, v in state.pending.items() if v.expires > now}
    state.pending[token] = _Pending(github_url, api_url, proxy, overwrite, now + _PENDING_LIFETIME)
    action = f"{target}?{urlencode({'state': token})}"
    return HTMLResponse(
        document(
            "Registering the App on GitHub",
            "<p>Sending app.yml to GitHub…</p>"
            f"<form id='manifest-form' method='post' action='{html.escape(action)}'>"
            f"<input type='hidden' name='manifest' value='{html.escape(json.dumps(manifest))}'>"
            "<noscript><button type='submit'>Continue to GitHub</button></noscript></form>"
            "<script>document.getElementById('manifest-form').submit()</script>",
        )
    )


def _form(state: _SetupState, page_url: str, csrf: str, error: str | None = None) -> Response:
    options = state.options
    base = page_url.removesuffix("/setup")
    return form_page(
        env_file=str(options.env_file),
        webhook_url=options.webhook_proxy_url or f"{base}/api/github/webhooks",
        github_url=options.github_url,
        api_url=options.api_url or "",
        csrf=csrf,
        offer_replace=options.env_file.exists() and not options.overwrite,
        error=error,
        status=400 if error else 200,
    )


def _configured(state: _SetupState, status: int = 200) -> Response:
    assert state.registered is not None
    options = state.options
    return configured_page(
        state.registered,
        str(options.env_file),
        options.next_step,
        status,
        written=not state.unsaved,
    )


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
