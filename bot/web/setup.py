"""`triad setup`: register the GitHub App from app.yml in one click and write `.env`.

The page posts app.yml as a manifest to GitHub's new-App page (a personal account's or an
organization's; GitHub Enterprise by its URL). GitHub sends the person back to
`/setup/callback` with a one-time code, exchanged for the App's id, private key, webhook
secret and OAuth client, which go to `.env` (mode 0600); the page then links to the App's
installation page. `triad serve` serves the same page while no App is configured.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import yaml
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.errors import ConfigError, GitHubError
from bot.github.manifest import RegisteredApp, convert_manifest_code

log = logging.getLogger(__name__)

GITHUB_URL = "https://github.com"
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
#: manifest keys taken from app.yml as they are (the rest is set by the page)
_MANIFEST_KEYS = ("name", "description", "url", "default_events", "default_permissions")
_PENDING_LIFETIME = 3600.0


@dataclass
class SetupOptions:
    env_file: Path = Path(".env")
    manifest_file: Path = Path("app.yml")
    github_url: str = GITHUB_URL
    #: None: derived from `github_url` (api.github.com, or GitHub Enterprise's /api/v3)
    api_url: str | None = None
    webhook_proxy_url: str | None = None
    overwrite: bool = False


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


def env_text(app: RegisteredApp, api_url: str, webhook_proxy_url: str | None) -> str:
    """`.env` for the new App; the key as one line with `\\n` escapes (Settings accept it)."""
    key = app.pem.strip().replace("\n", "\\n")
    lines = [
        f"# Written by `triad setup` for the GitHub App {app.name} ({app.html_url}).",
        "# It holds secrets: keep it out of version control.",
        f"TRIAD_APP_ID={app.id}",
        f'TRIAD_PRIVATE_KEY="{key}"',
        f"TRIAD_WEBHOOK_SECRET={app.webhook_secret}",
        f"TRIAD_CLIENT_ID={app.client_id}",
        f"TRIAD_CLIENT_SECRET={app.client_secret}",
    ]
    if api_url != "https://api.github.com":
        lines.append(f"TRIAD_GITHUB_API_URL={api_url}")
    if webhook_proxy_url:
        lines.append(f"TRIAD_WEBHOOK_PROXY_URL={webhook_proxy_url}")
    return "\n".join(lines) + "\n"


def write_env(path: Path, text: str, *, overwrite: bool) -> None:
    """Write `path` readable by its owner only; refuse to replace it unless `overwrite`."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    descriptor = os.open(path, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, text.encode())
    finally:
        os.close(descriptor)


def create_setup_router(options: SetupOptions) -> APIRouter:
    state = _SetupState(options)
    router = APIRouter(prefix="/setup")

    @router.get("", response_class=HTMLResponse, summary="Register the GitHub App")
    async def page(request: Request) -> HTMLResponse:
        return _form_page(state.options, _page_url(request))

    @router.post("/register", response_class=HTMLResponse)
    async def register(request: Request) -> HTMLResponse:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        try:
            return _register(state, form, _page_url(request))
        except ConfigError as exc:
            return _form_page(state.options, _page_url(request), error=str(exc), status=400)

    @router.get("/callback", response_class=HTMLResponse)
    async def callback(request: Request, code: str = "") -> HTMLResponse:
        given = request.query_params.get("state", "")
        pending = state.pending.pop(given, None)
        if not code or pending is None or pending.expires < time.monotonic():
            return _message(
                "Registration not recognised",
                "This answer from GitHub does not match a registration started here (or it "
                "is more than an hour old). Start again from <a href='/setup'>the setup "
                "page</a>.",
                400,
            )
        try:
            app = await convert_manifest_code(pending.api_url, code)
        except GitHubError as exc:
            return _message("GitHub refused the code", html.escape(str(exc)), 502)
        env = state.options.env_file
        try:
            write_env(
                env,
                env_text(app, pending.api_url, pending.webhook_proxy_url),
                overwrite=pending.overwrite,
            )
        except FileExistsError:
            return _message(
                ".env already exists",
                f"The App <b>{html.escape(app.name)}</b> was created on GitHub, but "
                f"<code>{html.escape(str(env))}</code> appeared meanwhile and was kept. Delete "
                "the App on GitHub and register again, choosing to replace .env.",
                409,
            )
        log.info("GitHub App registered", extra={"app_id": app.id, "slug": app.slug})
        install = f"{app.html_url.rstrip('/')}/installations/new"
        return _message(
            "GitHub App registered",
            f"<p id='registered'>The App <b>{html.escape(app.name)}</b> (id "
            f"<code>{app.id}</code>) is registered, and <code>{html.escape(str(env))}</code> "
            "holds its id, private key, webhook secret and OAuth client (mode 0600).</p>"
            "<ol><li><a id='install' href='"
            f"{html.escape(install)}'>Install it on a repository</a> (a throwaway one to try "
            "it).</li><li>Start Triad: <code>triad serve</code> reads <code>.env</code>"
            + (" and relays the webhook channel" if pending.webhook_proxy_url else "")
            + ". Restart it if it is running.</li></ol>",
        )

    @router.get("/installed", response_class=HTMLResponse)
    async def installed(request: Request) -> HTMLResponse:
        number = request.query_params.get("installation_id", "")
        return _message(
            "Installed",
            f"<p id='installed'>The App is installed (installation "
            f"<code>{html.escape(number)}</code>). Label an issue <code>triad:design</code> "
            "to start.</p>",
        )

    return router


def create_setup_app(options: SetupOptions) -> FastAPI:
    app = FastAPI(title="Triad setup", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(create_setup_router(options))

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/setup", status_code=303)

    return app


async def run_setup(options: SetupOptions, host: str, port: int) -> None:
    """Serve the setup page until interrupted."""
    import uvicorn

    read_app_yml(options.manifest_file)  # fail at start, not on the first click
    config = uvicorn.Config(
        create_setup_app(options), host=host, port=port, log_config=None, access_log=False
    )
    log.info("setup page ready", extra={"url": f"http://{host}:{port}/setup"})
    await uvicorn.Server(config).serve()


def _page_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/setup"


def _register(state: _SetupState, form: dict[str, str], page_url: str) -> HTMLResponse:
    options = state.options
    github_url = (form.get("github_url") or options.github_url).strip().rstrip("/")
    if not github_url.startswith(("https://", "http://")):
        raise ConfigError("The GitHub URL must start with https://")
    api_url = (form.get("api_url") or "").strip().rstrip("/") or options.api_url
    api_url = api_url or api_url_for(github_url)
    webhook_url = (form.get("webhook_url") or "").strip()
    if not webhook_url.startswith(("https://", "http://")):
        raise ConfigError("The webhook URL must be an http(s) URL GitHub can reach")
    proxy = webhook_url if webhook_url == options.webhook_proxy_url else None
    overwrite = options.overwrite or form.get("overwrite") == "yes"
    if options.env_file.exists() and not overwrite:
        raise ConfigError(
            f"{options.env_file} already exists: tick “Replace the existing .env” (or run "
            "`triad setup --force`) to overwrite it"
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
        _document(
            "Registering the App on GitHub",
            "<p>Sending app.yml to GitHub…</p>"
            f"<form id='manifest-form' method='post' action='{html.escape(action)}'>"
            f"<input type='hidden' name='manifest' value='{html.escape(json.dumps(manifest))}'>"
            "<noscript><button type='submit'>Continue to GitHub</button></noscript></form>"
            "<script>document.getElementById('manifest-form').submit()</script>",
        )
    )


def _form_page(
    options: SetupOptions, page_url: str, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    base = page_url.removesuffix("/setup")
    webhook = options.webhook_proxy_url or f"{base}/api/github/webhooks"
    exists = options.env_file.exists()
    replace = (
        "<p class='warn'><label><input type='checkbox' name='overwrite' value='yes' "
        f"id='overwrite'> Replace the existing <code>{html.escape(str(options.env_file))}</code>"
        "</label></p>"
        if exists and not options.overwrite
        else ""
    )
    problem = f"<p class='error' id='error'>{html.escape(error)}</p>" if error else ""
    body = (
        "<h1>Register Triad as a GitHub App</h1>"
        "<p>GitHub creates the App from <code>app.yml</code> (its events and permissions), "
        f"then sends you back here; Triad writes <code>{html.escape(str(options.env_file))}"
        "</code> with its credentials.</p>"
        f"{problem}<form method='post' action='/setup/register'>"
        "<fieldset><legend>Owner</legend>"
        "<label><input type='radio' name='owner' value='personal' checked> My personal "
        "account</label><br><label><input type='radio' name='owner' value='organization'> "
        "An organization: <input type='text' name='organization' placeholder='acme'></label>"
        "</fieldset>"
        "<p><label>Webhook URL<br><input type='text' name='webhook_url' size='60' "
        f"value='{html.escape(webhook)}'></label><br><small>Where GitHub sends events: your "
        "server's <code>/api/github/webhooks</code>, or a smee.io channel that "
        "<code>triad serve --webhook-proxy</code> relays.</small></p>"
        "<p><label>GitHub URL<br><input type='text' name='github_url' size='60' "
        f"value='{html.escape(options.github_url)}'></label><br><small>GitHub Enterprise "
        "Server: its address.</small></p>"
        "<p><label>API URL (leave empty to derive it)<br><input type='text' name='api_url' "
        f"size='60' value='{html.escape(options.api_url or '')}'></label></p>"
        f"{replace}<button type='submit' id='register'>Register GitHub App</button></form>"
    )
    return HTMLResponse(_document("Triad setup", body), status_code=status)


def _message(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_document(title, f"<h1>{html.escape(title)}</h1>{body}"), status)


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font:15px system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
        "color:#1f2328}h1{font-size:1.6rem}fieldset{border:1px solid #d0d7de;border-radius:6px}"
        "input[type=text]{font-size:.95rem;padding:.3rem}button{background:#1f883d;color:#fff;"
        "border:0;border-radius:6px;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}"
        ".error{color:#cf222e;font-weight:600}.warn{color:#9a6700}small{color:#656d76}"
        f"</style></head><body>{body}</body></html>"
    )
