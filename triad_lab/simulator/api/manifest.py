"""GitHub's App manifest flow: the new-App page a manifest is posted to, and the conversion.

A person's browser posts `manifest` (JSON) to `/settings/apps/new` (or an organization's); the
page shows what will be created and a "Create GitHub App" button, which redirects to the
manifest's `redirect_url` with a one-time `code` (and the `state` given). The App's backend then
calls `POST /app-manifests/{code}/conversions` without authentication and gets the App with its
private key, webhook secret and OAuth client. The simulator has one App: the conversion names
it after the manifest, takes its events, permissions and webhook URL, and hands out its key.

The web pages live under `/web` (the simulator's github.com) and need no login: the person is
`Simulator.web_user`. `/web/apps/{slug}/installations/new` installs the App on repositories.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, Call, as_anyone
from triad_lab.simulator.state import ApiError

router = APIRouter()
ANYONE = as_anyone()
CODE_LIFETIME = 3600.0
WEB = "/web"


async def _form(request: Request) -> dict[str, str]:
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    return {key: values[-1] for key, values in fields.items()}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font:15px system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;color:#1f2328}h1{font-size:1.5rem}code,li{font-size:.9rem}"
        "button{background:#1f883d;color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;"
        "font-size:1rem;cursor:pointer}input[type=text]{font-size:1rem;padding:.3rem;width:20rem}"
        ".box{border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}</style>"
        f"</head><body><p><b>GitHub</b> (simulator)</p>{body}</body></html>",
        status_code=status,
    )


def _manifest(text: str) -> dict[str, Any]:
    """The posted manifest, checked as GitHub checks it; a bad one gets GitHub's 422 page."""
    try:
        manifest = json.loads(text)
    except ValueError:
        raise ApiError(422, "The manifest is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise ApiError(422, "The manifest must be a JSON object")
    if not isinstance(manifest.get("url"), str) or not manifest["url"]:
        raise ApiError(422, "The manifest needs `url` (the App's homepage)")
    redirect = manifest.get("redirect_url")
    if not isinstance(redirect, str) or not redirect.startswith(("http://", "https://")):
        raise ApiError(422, "The manifest needs `redirect_url`, an http(s) URL")
    hook = manifest.get("hook_attributes") or {}
    if not isinstance(hook, dict) or not isinstance(hook.get("url", ""), str):
        raise ApiError(422, "`hook_attributes.url` must be a URL")
    return manifest


@router.get(WEB + "/settings/apps/new", response_class=HTMLResponse)
@router.get(WEB + "/organizations/{org}/settings/apps/new", response_class=HTMLResponse)
# FastAPI binds the path parameter and the caller by name, used or not
def new_app_form(
    org: str | None = None,  # noqa: ARG001
    call: Call = ANYONE,  # noqa: ARG001
) -> HTMLResponse:
    return _page(
        "Register new GitHub App",
        "<h1>Register new GitHub App</h1><p>Post a <code>manifest</code> form field here to "
        "create an App from a manifest.</p>",
    )


@router.post(WEB + "/settings/apps/new", response_class=HTMLResponse)
@router.post(WEB + "/organizations/{org}/settings/apps/new", response_class=HTMLResponse)
async def new_app_from_manifest(
    request: Request, org: str | None = None, call: Call = ANYONE
) -> HTMLResponse:
    form = await _form(request)
    try:
        manifest = _manifest(form.get("manifest", ""))
    except ApiError as exc:
        return _page(
            "Invalid manifest", f"<h1>Invalid manifest</h1><p>{html.escape(exc.message)}</p>", 422
        )
    owner = org or call.sim.web_user
    state = request.query_params.get("state", "")
    name = str(manifest.get("name") or "")
    hook = str((manifest.get("hook_attributes") or {}).get("url", ""))
    events = "".join(f"<li>{html.escape(str(e))}</li>" for e in manifest.get("default_events", []))
    permissions = "".join(
        f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
        for k, v in (manifest.get("default_permissions") or {}).items()
    )
    action = request.url.path + "/create"
    return _page(
        "Create GitHub App",
        f"<h1>Create GitHub App for <span id='owner'>{html.escape(owner)}</span></h1>"
        f"<form method='post' action='{html.escape(action)}'>"
        f"<input type='hidden' name='manifest' value='{html.escape(json.dumps(manifest))}'>"
        f"<input type='hidden' name='state' value='{html.escape(state)}'>"
        f"<p><label>GitHub App name <input type='text' name='name' value='{html.escape(name)}'>"
        "</label></p>"
        f"<div class='box'><p>Webhook URL: <code id='hook'>{html.escape(hook)}</code></p>"
        f"<p>Events</p><ul>{events}</ul><p>Permissions</p><ul>{permissions}</ul></div>"
        "<button type='submit'>Create GitHub App</button></form>",
    )


@router.post(WEB + "/settings/apps/new/create")
@router.post(WEB + "/organizations/{org}/settings/apps/new/create")
async def create_app_from_manifest(
    request: Request, org: str | None = None, call: Call = ANYONE
) -> RedirectResponse:
    form = await _form(request)
    manifest = _manifest(form.get("manifest", ""))
    name = form.get("name", "").strip() or str(manifest.get("name") or "")
    if not name:
        raise ApiError(422, "The App needs a name")
    code = secrets.token_hex(10)
    with call.lock:
        call.sim.manifest_codes[code] = (
            manifest | {"name": name},
            org or call.sim.web_user,
            call.world.clock() + CODE_LIFETIME,
        )
    query = {"code": code} | ({"state": form["state"]} if form.get("state") else {})
    return RedirectResponse(f"{manifest['redirect_url']}?{urlencode(query)}", status_code=302)


@router.post("/app-manifests/{code}/conversions", status_code=201)
def conversion(code: str, call: Call = ANYONE) -> JSON:
    with call.lock:
        found = call.sim.manifest_codes.pop(code, None)
        if found is None or found[2] < call.world.clock():
            raise ApiError(404, "Not Found")
        manifest, owner, _ = found
        return _register(call, manifest, owner)


def _register(call: Call, manifest: dict[str, Any], owner_login: str) -> JSON:
    """Make the simulator's App the one the manifest describes, and hand out its secrets."""
    world, sim = call.world, call.sim
    name = str(manifest["name"])
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
    events = manifest.get("default_events")
    permissions = manifest.get("default_permissions")
    world.app = dataclasses.replace(
        world.app,
        name=name,
        slug=slug,
        owner=world.user(owner_login),
        bot=world.user(f"{slug}[bot]", "Bot"),
        events=tuple(events) if isinstance(events, list) else world.app.events,
        permissions=dict(permissions) if isinstance(permissions, dict) else world.app.permissions,
    )
    secret = secrets.token_hex(20)
    hook = (manifest.get("hook_attributes") or {}).get("url")
    sim.sender.url = hook or None
    sim.sender.secret = secret
    sim.app_setup_url = manifest.get("setup_url")
    client_secret = secrets.token_hex(20)
    sim.client_secret = client_secret
    answer = render.app(world.urls, world.app, world.created_at)
    answer |= {
        "client_id": sim.client_id,
        "client_secret": client_secret,
        "webhook_secret": secret,
        "pem": sim.private_key_pem,
        "installations_count": len(world.installations),
    }
    return answer


@router.get(WEB + "/apps/{slug}/installations/new", response_class=HTMLResponse)
def installation_form(slug: str, call: Call = ANYONE) -> HTMLResponse:
    with call.lock:
        if slug != call.world.app.slug:
            raise ApiError(404, "Not Found")
        repos = sorted(repo.full_name for repo in call.world.repos.values())
        name = call.world.app.name
    boxes = "".join(
        f"<p><label><input type='checkbox' name='repository' value='{html.escape(r)}' checked> "
        f"{html.escape(r)}</label></p>"
        for r in repos
    )
    return _page(
        f"Install {name}",
        f"<h1>Install {html.escape(name)}</h1><form method='post'>"
        f"<p>Only select repositories:</p>{boxes or '<p>No repositories yet.</p>'}"
        "<button type='submit'>Install</button></form>",
    )


@router.post(WEB + "/apps/{slug}/installations/new")
async def install(slug: str, request: Request, call: Call = ANYONE) -> Any:
    chosen = parse_qs((await request.body()).decode()).get("repository", [])
    with call.lock:
        if slug != call.world.app.slug or not chosen:
            raise ApiError(422, "Choose at least one repository")
        account = chosen[0].split("/")[0]
        installation_id = call.world.install(account, chosen, sender=call.sim.web_user)
        setup_url = call.sim.app_setup_url
    if setup_url:
        query = urlencode({"installation_id": installation_id, "setup_action": "install"})
        return RedirectResponse(f"{setup_url}?{query}", status_code=302)
    return _page("Installed", f"<h1>Installed</h1><p>Installation {installation_id}.</p>")
