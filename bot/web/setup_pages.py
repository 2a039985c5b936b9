"""The setup pages' HTML: the registration form and the short messages around it."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

from bot.github.manifest import RegisteredApp


def form_page(
    *,
    env_file: str,
    webhook_url: str,
    github_url: str,
    api_url: str,
    csrf: str,
    offer_replace: bool,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The registration form; `offer_replace` adds the box that lets it replace `.env`."""
    replace = (
        "<p class='warn'><label><input type='checkbox' name='overwrite' value='yes' "
        "id='overwrite'> Replace the App settings in the existing "
        f"<code>{html.escape(env_file)}</code></label><br><small>Only the "
        "<code>TRIAD_</code> settings setup writes are replaced; every other line stays."
        "</small></p>"
        if offer_replace
        else ""
    )
    problem = f"<p class='error' id='error'>{html.escape(error)}</p>" if error else ""
    body = (
        "<h1>Register Triad as a GitHub App</h1>"
        "<p>GitHub creates the App from <code>app.yml</code> (its events and permissions), "
        f"then sends you back here; Triad writes <code>{html.escape(env_file)}"
        "</code> with its credentials.</p>"
        f"{problem}<form method='post' action='/setup/register'>"
        f"<input type='hidden' name='csrf' value='{html.escape(csrf)}'>"
        "<fieldset><legend>Owner</legend>"
        "<label><input type='radio' name='owner' value='personal' checked> My personal "
        "account</label><br><label><input type='radio' name='owner' value='organization'> "
        "An organization: <input type='text' name='organization' placeholder='acme'></label>"
        "</fieldset>"
        "<p><label>Webhook URL<br><input type='text' name='webhook_url' size='60' "
        f"value='{html.escape(webhook_url)}'></label><br><small>Where GitHub sends events: your "
        "server's <code>/api/github/webhooks</code>, or a smee.io channel that "
        "<code>triad serve</code> relays (written to <code>.env</code> as "
        "<code>TRIAD_WEBHOOK_PROXY_URL</code>).</small></p>"
        "<p><label>GitHub URL<br><input type='text' name='github_url' size='60' "
        f"value='{html.escape(github_url)}'></label><br><small>GitHub Enterprise "
        "Server: its address.</small></p>"
        "<p><label>API URL (leave empty to derive it)<br><input type='text' name='api_url' "
        f"size='60' value='{html.escape(api_url)}'></label></p>"
        f"{replace}<button type='submit' id='register'>Register GitHub App</button></form>"
    )
    return HTMLResponse(document("Triad setup", body), status_code=status)


def configured_page(
    app: RegisteredApp, env_file: str, next_step: str, status: int = 200, *, written: bool = True
) -> HTMLResponse:
    """What the page says once it registered the App: it registers no more."""
    name, env = html.escape(app.name), html.escape(env_file)
    if not written:
        return message(
            ".env was not written",
            f"<p id='unsaved'>This page registered the App <b>{name}</b> but could not write "
            f"<code>{env}</code>; it showed its lines once, to be saved there by hand (or "
            "delete the App on GitHub and start again). It registers no more.</p>",
            status,
        )
    return message(
        "Triad is configured",
        f"<p id='configured'>This page registered the App <b>{name}</b> and wrote "
        f"<code>{env}</code>; it registers no more. Now {next_step}.</p>",
        status,
    )


def message(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page of its own, never cached (one shows a new App's key when .env cannot hold it)."""
    page = document(title, f"<h1>{html.escape(title)}</h1>{body}")
    return HTMLResponse(page, status, headers={"Cache-Control": "no-store"})


def document(title: str, body: str) -> str:
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
