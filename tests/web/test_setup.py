"""`triad setup`: app.yml goes to GitHub's new-App page as a manifest, the code comes back and is
exchanged with the real githubkit client (against the simulator), and `.env` is written; the
page refuses other sites, unexpected hosts and answers that would add lines to `.env`."""

from __future__ import annotations

import asyncio
import html
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from dotenv import dotenv_values

from bot.settings import ServerSettings, load_settings
from bot.web.setup import SetupOptions, api_url_for, create_setup_app, is_channel_url
from bot.web.setup_env import UnsafeEnvValue, assignment
from triad_lab.simulator.server import Simulator

ROOT = Path(__file__).resolve().parents[2]
PAGE = "http://triad.test"
SAME_ORIGIN = {"origin": PAGE, "sec-fetch-site": "same-origin"}


@pytest.fixture
def github() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


def _options(env: Path, github: Simulator, **more: object) -> SetupOptions:
    return SetupOptions(
        env_file=env,
        manifest_file=ROOT / "app.yml",
        github_url=f"{github.url}/web",
        api_url=github.url,
        hosts=frozenset({"triad.test"}),
        **more,  # type: ignore[arg-type]
    )


def _client(options: SetupOptions) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_setup_app(options))
    return httpx.AsyncClient(transport=transport, base_url=PAGE)


def _hidden(page: str, name: str) -> str:
    found = re.search(rf"name='{name}' value='([^']*)'", page)
    assert found, f"no {name} field in the page"
    return html.unescape(found.group(1))


def _action(page: str) -> str:
    found = re.search(r"<form[^>]*action='([^']*)'", page)
    assert found
    return html.unescape(found.group(1))


async def _post_form(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    """Post the setup form as the browser showing the page would: its token, its origin."""
    page = await client.get("/setup")
    return await client.post(
        "/setup/register", data={"csrf": _hidden(page.text, "csrf"), **form}, headers=SAME_ORIGIN
    )


async def _register(
    client: httpx.AsyncClient, github: Simulator, form: dict[str, str], name: str = "Triad Test"
) -> tuple[httpx.Response, dict[str, object]]:
    """Fill the setup page, follow GitHub's pages as a browser would, return the callback."""
    query, manifest = await _back_from_github(client, github, form, name)
    return await client.get("/setup/callback", params=query), manifest


async def _back_from_github(
    client: httpx.AsyncClient, github: Simulator, form: dict[str, str], name: str = "Triad Test"
) -> tuple[dict[str, str], dict[str, object]]:
    """Fill the setup page and follow GitHub's pages: the callback's query, and the manifest."""
    sent = await _post_form(client, form)
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
                "name": name,
            },
        )
    assert created.status_code == 302
    back = urlparse(created.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{PAGE}/setup/callback"
    return {k: v[0] for k, v in parse_qs(back.query).items()}, manifest


async def test_registering_writes_a_private_env_that_settings_accept(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    async with _client(_options(env, github)) as client:
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
    assert "TRIAD_WEBHOOK_PROXY_URL" not in text
    # the simulator's App now is the one the manifest described, with the new secret
    assert github.world.app.name == "Triad Test" and github.sender.url == webhook
    settings = load_settings(ServerSettings, _env_file=env)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value().strip() == github.private_key_pem.strip()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == github.sender.secret


async def test_the_env_reads_the_same_in_settings_and_in_docker_run_env_file(
    tmp_path: Path, github: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    async with _client(_options(env, github)) as client:
        answer, _ = await _register(client, github, {"webhook_url": "https://x.test/h"})
    assert answer.status_code == 200, answer.text
    # `docker run --env-file`: every non-comment line is NAME=VALUE, taken literally
    lines = [line for line in env.read_text().splitlines() if line and not line.startswith("#")]
    literal = dict(line.split("=", 1) for line in lines)
    assert literal == dotenv_values(env)
    assert "\\n" in literal["TRIAD_PRIVATE_KEY"] and "\n" not in literal["TRIAD_PRIVATE_KEY"]
    for name, value in literal.items():
        monkeypatch.setenv(name, value)
    from_docker = load_settings(_env_file=None)
    assert from_docker.private_key is not None and from_docker.app_id == github.app_id
    assert from_docker.private_key.get_secret_value().strip() == github.private_key_pem.strip()


async def test_an_organization_app_goes_to_the_organization_page(
    tmp_path: Path, github: Simulator
) -> None:
    async with _client(_options(tmp_path / ".env", github)) as client:
        sent = await _post_form(
            client,
            {"owner": "organization", "organization": "acme", "webhook_url": "https://x.test/h"},
        )
        assert _action(sent.text).startswith(
            f"{github.url}/web/organizations/acme/settings/apps/new?state="
        )
        bad = await _post_form(
            client,
            {"owner": "organization", "organization": "no such org!", "webhook_url": "https://x"},
        )
        assert bad.status_code == 400 and "Name the organization" in bad.text


async def test_replacing_an_existing_env_keeps_every_line_setup_does_not_own(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    before = (
        "# my settings\n"
        "ANTHROPIC_API_KEY=sk-ant-keep-me\n"
        "export TRIAD_DATABASE_URL=postgresql://triad@db/triad\n"
        "TRIAD_APP_ID=7\n"
        'TRIAD_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nold\n-----END RSA PRIVATE KEY-----"\n'
        "TRIAD_GITHUB_API_URL=https://ghe.example.com/api/v3\n"
        "OPENROUTER_API_KEY='sk-or-keep # me'\n"
    )
    env.write_text(before)
    async with _client(_options(env, github)) as client:
        assert "Replace the App settings" in (await client.get("/setup")).text
        refused = await _post_form(client, {"webhook_url": "https://x.test/h"})
        assert refused.status_code == 400 and "already exists" in refused.text
        assert env.read_text() == before
        answer, _ = await _register(
            client, github, {"webhook_url": "https://x.test/h", "overwrite": "yes"}
        )
        assert answer.status_code == 200, answer.text
    text = env.read_text()
    assert text.startswith(
        "# my settings\nANTHROPIC_API_KEY=sk-ant-keep-me\n"
        "export TRIAD_DATABASE_URL=postgresql://triad@db/triad\n"
        "OPENROUTER_API_KEY='sk-or-keep # me'\n\n# Written by `triad setup`"
    )
    values = dotenv_values(env)
    assert values["TRIAD_APP_ID"] == str(github.app_id) and text.count("TRIAD_APP_ID=") == 1
    assert values["TRIAD_GITHUB_API_URL"] == github.url and "ghe.example.com" not in text
    assert "\nold\n" not in text
    assert values["OPENROUTER_API_KEY"] == "sk-or-keep # me"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left


async def test_a_post_from_another_site_or_without_the_pages_token_is_refused(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    env.write_text("ANTHROPIC_API_KEY=sk-ant-keep-me\n")
    attack = {
        "webhook_url": "https://evil.test/hook",
        "github_url": "https://evil.test",
        "api_url": "https://evil.test/api",
        "overwrite": "yes",
    }
    async with _client(_options(env, github)) as client:
        token = _hidden((await client.get("/setup")).text, "csrf")
        cases = [
            # a page on another site auto-posting the form: the browser says where from
            {"origin": "https://evil.test", "sec-fetch-site": "cross-site"},
            {"origin": "https://evil.test"},
            {"referer": "https://evil.test/page"},
            {"origin": PAGE, "sec-fetch-site": "same-site"},
            {},
        ]
        for headers in cases:
            refused = await client.post(
                "/setup/register", data={**attack, "csrf": token}, headers=headers
            )
            assert refused.status_code == 403, headers
            assert "evil.test" not in refused.text
        # the right origin, but no token, or a token of another browser's cookie
        missing = await client.post("/setup/register", data=attack, headers=SAME_ORIGIN)
        assert missing.status_code == 403 and "reload" in missing.text
        client.cookies.clear()
        other = await client.post(
            "/setup/register", data={**attack, "csrf": token}, headers=SAME_ORIGIN
        )
        assert other.status_code == 403
    assert env.read_text() == "ANTHROPIC_API_KEY=sk-ant-keep-me\n"


async def test_a_host_the_page_was_not_started_for_gets_nothing(
    tmp_path: Path, github: Simulator
) -> None:
    async with _client(_options(tmp_path / ".env", github)) as client:
        rebound = await client.get("/setup", headers={"host": "evil.test"})
        assert rebound.status_code == 421 and "csrf" not in rebound.text
        posted = await client.post(
            "/setup/register",
            data={"webhook_url": "https://x.test/h"},
            headers={"host": "evil.test", "origin": "http://evil.test"},
        )
        assert posted.status_code == 421
    # without a list of hosts, only loopback names are answered
    loopback = SetupOptions(env_file=tmp_path / ".env", manifest_file=ROOT / "app.yml")
    transport = httpx.ASGITransport(app=create_setup_app(loopback))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as local:
        assert (await local.get("/setup")).status_code == 200
        assert (await local.get("/setup", headers={"host": "evil.test:3000"})).status_code == 421


@pytest.mark.parametrize("field", ["client_id", "name"])
async def test_an_answer_that_would_add_lines_to_env_writes_nothing(
    tmp_path: Path, github: Simulator, field: str
) -> None:
    env = tmp_path / ".env"
    injected = "Triad\nTRIAD_ADMIN_TOKEN=owned\nTRIAD_DATABASE_URL=postgresql://evil/db"
    name = "Triad Test"
    if field == "client_id":
        github.client_id = injected
    else:
        name = injected
    async with _client(_options(env, github)) as client:
        answer, _ = await _register(client, github, {"webhook_url": "https://x.test/h"}, name)
    assert answer.status_code == 502 and "malformed" in answer.text
    assert "owned" not in answer.text
    assert not env.exists()


def test_only_values_that_read_back_as_written_are_written() -> None:
    assert assignment("TRIAD_CLIENT_ID", "Iv1.abc") == "TRIAD_CLIENT_ID=Iv1.abc"
    for bad in ("a\nB=1", "a\rb", "a\u2028b", '"quoted"', " padded", "x #comment", "a\x00"):
        with pytest.raises(UnsafeEnvValue) as raised:
            assignment("TRIAD_WEBHOOK_SECRET", bad)
        assert bad not in str(raised.value)


async def test_a_smee_channel_typed_as_the_webhook_url_is_relayed(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    channel = "https://smee.io/aB3dE5fG7hI9"
    async with _client(_options(env, github)) as client:
        answer, manifest = await _register(client, github, {"webhook_url": channel})
    assert answer.status_code == 200, answer.text
    assert manifest["hook_attributes"] == {"url": channel, "active": True}
    assert dotenv_values(env)["TRIAD_WEBHOOK_PROXY_URL"] == channel
    assert "relays the webhook channel" in answer.text
    assert is_channel_url(channel) and not is_channel_url("https://smee.io.evil.test/abc")
    assert not is_channel_url("https://example.test/api/github/webhooks")


async def test_once_env_is_written_the_page_registers_no_more(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    options = _options(env, github, next_step="restart <code>triad serve</code>")
    async with _client(options) as client:
        answer, _ = await _register(client, github, {"webhook_url": "https://x.test/h"})
        assert answer.status_code == 200 and "restart <code>triad serve</code>" in answer.text
        page = await client.get("/setup")
        assert "registers no more" in page.text and "restart" in page.text
        assert "name='csrf'" not in page.text
        again = await client.post(
            "/setup/register", data={"webhook_url": "https://x.test/h"}, headers=SAME_ORIGIN
        )
        assert again.status_code == 409
        installed = await client.get("/setup/installed", params={"installation_id": "5"})
        assert installed.status_code == 200 and "installation" in installed.text


async def test_a_forged_or_replayed_callback_writes_nothing(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    async with _client(_options(env, github)) as client:
        forged = await client.get("/setup/callback", params={"code": "abc", "state": "guess"})
        assert forged.status_code == 400 and not env.exists()
        sent = await _post_form(client, {"webhook_url": "https://x.test/h"})
        state = parse_qs(urlparse(_action(sent.text)).query)["state"][0]
        unknown = await client.get("/setup/callback", params={"code": "nope", "state": state})
        assert unknown.status_code == 502 and "used once" in unknown.text and not env.exists()


async def test_an_env_that_cannot_be_written_shows_the_new_apps_lines_once(
    tmp_path: Path, github: Simulator
) -> None:
    """The App exists on GitHub once the code is exchanged, and its key is shown nowhere else:
    a `.env` that could not be written (a missing folder) lost it behind a 500."""
    env = tmp_path / "missing" / ".env"
    async with _client(_options(env, github)) as client:
        answer, _ = await _register(client, github, {"webhook_url": "https://x.test/h"})
        assert answer.status_code == 500 and "could not be written" in answer.text
        assert answer.headers["cache-control"] == "no-store"
        found = re.search(r"<pre id='env'>(.*?)</pre>", answer.text, re.S)
        assert found is not None
        shown = html.unescape(found[1])
        assert f"TRIAD_APP_ID={github.app_id}\n" in shown
        assert "BEGIN" in shown and "TRIAD_WEBHOOK_SECRET=" in shown
        after = (await client.get("/setup")).text
        assert "registers no more" in after and "could not write" in after
    assert not env.parent.exists()


async def test_a_code_exchange_that_failed_can_be_tried_again(
    tmp_path: Path, github: Simulator
) -> None:
    """GitHub's code is good for an hour: a reload after an outage registers the App."""
    env = tmp_path / ".env"
    github.fail("POST", r"/app-manifests/.+/conversions$", 502, times=10)
    async with _client(_options(env, github)) as client:
        failed, _ = await _register(client, github, {"webhook_url": "https://x.test/h"})
        assert failed.status_code == 502 and not env.exists()
        github.faults.clear()  # GitHub is back
        again = await client.get("/setup/callback", params=failed.request.url.params)
        assert again.status_code == 200, again.text
    assert f"TRIAD_APP_ID={github.app_id}\n" in env.read_text()


async def test_a_reload_while_the_code_is_exchanged_shows_the_one_registration(
    tmp_path: Path, github: Simulator
) -> None:
    """The browser reloads the callback while GitHub is slow to exchange its code: the reload
    was told the registration was not recognised (400), the tab then showing no App at all."""
    env = tmp_path / ".env"
    async with _client(_options(env, github)) as client:
        query, _ = await _back_from_github(client, github, {"webhook_url": "https://x.test/h"})
        github.fail("POST", r"/app-manifests/.+/conversions$", 0, latency=1.0)  # slow, once
        first = asyncio.create_task(client.get("/setup/callback", params=query))
        await asyncio.sleep(0.3)
        reload = await client.get("/setup/callback", params=query)
        answers = [(await first).status_code, reload.status_code]
    assert answers == [200, 200]
    assert env.read_text().count(f"TRIAD_APP_ID={github.app_id}\n") == 1


async def test_replacing_an_env_that_is_not_utf8_keeps_its_other_bytes(
    tmp_path: Path, github: Simulator
) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"# caf\xe9 settings\nANTHROPIC_API_KEY=sk-ant-keep-me\n")
    async with _client(_options(env, github)) as client:
        answer, _ = await _register(
            client, github, {"webhook_url": "https://x.test/h", "overwrite": "yes"}
        )
        assert answer.status_code == 200, answer.text
    written = env.read_bytes()
    assert written.startswith(b"# caf\xe9 settings\nANTHROPIC_API_KEY=sk-ant-keep-me\n")
    assert f"TRIAD_APP_ID={github.app_id}\n".encode() in written


async def test_a_form_that_is_not_utf8_or_too_long_is_refused_plainly(
    tmp_path: Path, github: Simulator
) -> None:
    async with _client(_options(tmp_path / ".env", github)) as client:
        for body, status in [(b"csrf=\xff", 400), (b"a=" + b"x" * 20_000, 413)]:
            answer = await client.post(
                "/setup/register",
                content=body,
                headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == status


def test_the_api_url_follows_the_github_url() -> None:
    assert api_url_for("https://github.com") == "https://api.github.com"
    assert api_url_for("https://ghe.example.com/") == "https://ghe.example.com/api/v3"
