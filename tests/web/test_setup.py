"""`triad setup`: app.yml goes to GitHub's new-App page as a manifest, the code comes back and is
exchanged with the real githubkit client (against the simulator), and `.env` is written."""

from __future__ import annotations

import html
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bot.settings import ServerSettings, load_settings
from bot.web.setup import SetupOptions, api_url_for, create_setup_app
from triad_lab.simulator.server import Simulator

ROOT = Path(__file__).resolve().parents[2]
PAGE = "http://triad.test"


@pytest.fixture
def github() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


def _hidden(page: str, name: str) -> str:
    found = re.search(rf"name='{name}' value='([^']*)'", page)
    assert found, f"no {name} field in the page"
    return html.unescape(found.group(1))


def _action(page: str, form_id: str = "") -> str:
    found = re.search(r"<form[^>]*action='([^']*)'", page)
    assert found
    return html.unescape(found.group(1))


async def _register(
    client: httpx.AsyncClient, github: Simulator, form: dict[str, str]
) -> tuple[httpx.Response, dict[str, object]]:
    """Fill the setup page, follow GitHub's pages as a browser would, return the callback."""
    sent = await client.post("/setup/register", data=form)
    assert sent.status_code == 200, sent.text
    manifest = json.loads(_hidden(sent.text, "manifest"))
    async with httpx.AsyncClient() as browser:
        confirm = await browser.post(_action(sent.text), data={"manifest": json.dumps(manifest)})
        assert confirm.status_code == 200, confirm.text
        created = await browser.post(
            github.url + _action(confirm.text),
            data={
                "manifest": _hidden(confirm.text, "manifest"),
                "state": _hidden(confirm.text, "state"),
                "name": "Triad Test",
            },
        )
    assert created.status_code == 302
    back = urlparse(created.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{PAGE}/setup/callback"
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    return await client.get("/setup/callback", params=query), manifest


async def test_registering_writes_a_private_env_that_settings_accept(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    options = SetupOptions(env_file=env, manifest_file=ROOT / "app.yml", github_url=github.url)
    options.github_url = f"{github.url}/web"
    options.api_url = github.url
    app = create_setup_app(options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PAGE) as client:
        assert "Register GitHub App" in (await client.get("/setup")).text
        webhook = "https://example.test/api/github/webhooks"
        answer, manifest = await _register(
            client, github, {"owner": "personal", "webhook_url": webhook}
        )
    assert answer.status_code == 200, answer.text
    assert manifest["hook_attributes"] == {"url": webhook, "active": True}
    assert manifest["public"] is False
    assert manifest["redirect_url"] == f"{PAGE}/setup/callback"
    assert manifest["setup_url"] == f"{PAGE}/setup/installed"
    assert "issues" in manifest["default_events"]  # type: ignore[operator]
    assert f"{github.url}/web/apps/triad-test/installations/new" in answer.text
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    assert f"TRIAD_APP_ID={github.app_id}\n" in text and "TRIAD_CLIENT_SECRET=" in text
    assert f"TRIAD_GITHUB_API_URL={github.url}\n" in text
    # the simulator's App now is the one the manifest described, with the new secret
    assert github.world.app.name == "Triad Test" and github.sender.url == webhook
    settings = load_settings(ServerSettings, _env_file=env)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value().strip() == github.private_key_pem.strip()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == github.sender.secret


async def test_an_organization_app_goes_to_the_organization_page(
    tmp_path: Path, github: Simulator
) -> None:
    options = SetupOptions(
        env_file=tmp_path / ".env",
        manifest_file=ROOT / "app.yml",
        github_url=f"{github.url}/web",
        api_url=github.url,
    )
    transport = httpx.ASGITransport(app=create_setup_app(options))
    async with httpx.AsyncClient(transport=transport, base_url=PAGE) as client:
        sent = await client.post(
            "/setup/register",
            data={
                "owner": "organization",
                "organization": "acme",
                "webhook_url": "https://x.test/h",
            },
        )
        assert _action(sent.text).startswith(
            f"{github.url}/web/organizations/acme/settings/apps/new?state="
        )
        bad = await client.post(
            "/setup/register",
            data={
                "owner": "organization",
                "organization": "no such org!",
                "webhook_url": "https://x",
            },
        )
        assert bad.status_code == 400 and "Name the organization" in bad.text


async def test_an_existing_env_is_kept_unless_asked(tmp_path: Path, github: Simulator) -> None:
    env = tmp_path / ".env"
    env.write_text("TRIAD_APP_ID=7\n")
    options = SetupOptions(
        env_file=env,
        manifest_file=ROOT / "app.yml",
        github_url=f"{github.url}/web",
        api_url=github.url,
    )
    transport = httpx.ASGITransport(app=create_setup_app(options))
    async with httpx.AsyncClient(transport=transport, base_url=PAGE) as client:
        assert "Replace the existing" in (await client.get("/setup")).text
        refused = await client.post("/setup/register", data={"webhook_url": "https://x.test/h"})
        assert refused.status_code == 400 and "already exists" in refused.text
        assert env.read_text() == "TRIAD_APP_ID=7\n"
        answer, _ = await _register(
            client, github, {"webhook_url": "https://x.test/h", "overwrite": "yes"}
        )
        assert answer.status_code == 200
        assert f"TRIAD_APP_ID={github.app_id}" in env.read_text()


async def test_a_forged_or_replayed_callback_writes_nothing(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    options = SetupOptions(
        env_file=env,
        manifest_file=ROOT / "app.yml",
        github_url=f"{github.url}/web",
        api_url=github.url,
    )
    transport = httpx.ASGITransport(app=create_setup_app(options))
    async with httpx.AsyncClient(transport=transport, base_url=PAGE) as client:
        forged = await client.get("/setup/callback", params={"code": "abc", "state": "guess"})
        assert forged.status_code == 400 and not env.exists()
        sent = await client.post("/setup/register", data={"webhook_url": "https://x.test/h"})
        state = parse_qs(urlparse(_action(sent.text)).query)["state"][0]
        unknown = await client.get("/setup/callback", params={"code": "nope", "state": state})
        assert unknown.status_code == 502 and "used once" in unknown.text and not env.exists()


def test_the_api_url_follows_the_github_url() -> None:
    assert api_url_for("https://github.com") == "https://api.github.com"
    assert api_url_for("https://ghe.example.com/") == "https://ghe.example.com/api/v3"
