"""`triad setup` in a real browser against the simulator's GitHub: register the App from
app.yml, `.env` is written, `triad serve` starts with it, and the App's installation webhook,
signed with the new secret, is accepted."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import browser_page, needs_chromium, screenshot
from triad_lab.ports import free_port
from triad_lab.simulator import demo_repo
from triad_lab.simulator.server import Simulator

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TRIAD_") and k not in {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}
    }
    environment["TRIAD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'triad.db'}"
    return environment


def _triad(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1])
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[1]


@pytest.fixture
def github() -> Iterator[Simulator]:
    with Simulator() as sim:
        sim.create_repository(
            demo_repo.REPOSITORY, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS
        )
        yield sim


@needs_chromium
async def test_register_the_app_in_the_browser_then_serve_with_the_env(
    tmp_path: Path, github: Simulator
) -> None:
    setup_port, serve_port = free_port(), free_port()
    webhook = f"http://127.0.0.1:{serve_port}/api/github/webhooks"
    setup = _triad(
        tmp_path,
        "setup",
        "--port",
        str(setup_port),
        "--manifest",
        str(ROOT / "app.yml"),
        "--github-url",
        f"{github.url}/web",
        "--api-url",
        github.url,
    )
    serve: subprocess.Popen[str] | None = None
    try:
        _wait_for(f"http://127.0.0.1:{setup_port}/setup", setup)
        async with browser_page() as page:
            await page.goto(f"http://127.0.0.1:{setup_port}/setup")
            await page.fill("input[name=webhook_url]", webhook)
            await screenshot(page, "setup.png", tmp_path)
            await page.click("#register")
            # GitHub's (the simulator's) new-App page, filled from app.yml
            await page.locator("h1", has_text="Create GitHub App for").wait_for()
            assert await page.locator("#hook").inner_text() == webhook
            await page.fill("input[name=name]", "Triad Laptop")
            await page.click("button:has-text('Create GitHub App')")
            await page.locator("#registered").wait_for()
            env = tmp_path / ".env"
            assert stat.S_IMODE(env.stat().st_mode) == 0o600
            assert f"TRIAD_APP_ID={github.app_id}" in env.read_text()
            # `triad serve` starts from .env alone (no TRIAD_* in its environment)
            serve = _triad(tmp_path, "serve", "--port", str(serve_port))
            _wait_for(f"http://127.0.0.1:{serve_port}/healthz", serve)
            # install the App: GitHub sends `installation.created`, signed with the new secret
            await page.click("#install")
            await page.locator("h1", has_text="Install Triad Laptop").wait_for()
            await page.click("button:has-text('Install')")
            await page.locator("#installed").wait_for()
        github.flush()
        installed = [d for d in github.deliveries if d.event == "installation"]
        assert [d.status for d in installed] == [202]
        assert github.installation_id(demo_repo.REPOSITORY) is not None
    finally:
        errors = _stop(setup)
        if serve is not None:
            errors += _stop(serve)
    assert "BEGIN RSA PRIVATE KEY" not in errors and github.sender.secret not in errors


async def test_serve_without_an_app_offers_the_setup_page(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "app.yml").write_text((ROOT / "app.yml").read_text())
    serve = _triad(tmp_path, "serve", "--port", str(port))
    try:
        _wait_for(f"http://127.0.0.1:{port}/setup", serve)
        page = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True).text
        assert "Register GitHub App" in page
        # only to the address it listens on: a rebound name gets nothing
        rebound = httpx.get(f"http://127.0.0.1:{port}/setup", headers={"host": "evil.test"})
        assert rebound.status_code == 421
    finally:
        errors = _stop(serve)
    assert f"open http://127.0.0.1:{port}/setup" in errors


def _error_line(process: subprocess.Popen[str]) -> str:
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_serve_on_a_network_address_without_an_app_names_the_missing_settings(
    tmp_path: Path,
) -> None:
    # as in the container: listening on every address, app.yml or not
    (tmp_path / "app.yml").write_text((ROOT / "app.yml").read_text())
    line = _error_line(_triad(tmp_path, "serve", "--host", "0.0.0.0", "--port", str(free_port())))
    assert line.startswith("triad: error: TRIAD_APP_ID is not set")
    assert "TRIAD_WEBHOOK_SECRET is not set" in line and "setup" not in line


def test_serve_without_an_app_or_app_yml_names_the_missing_settings(tmp_path: Path) -> None:
    # as in the image, which holds no app.yml: one line, not a setup page that cannot start
    line = _error_line(_triad(tmp_path, "serve", "--port", str(free_port())))
    assert line.startswith("triad: error: TRIAD_APP_ID is not set")
