"""`triad` as an operator runs it: real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bot.github.signature import sign
from triad_lab.keys import throwaway_pem
from triad_lab.ports import free_port

SECRET = "process-test-secret"


def _environment(tmp_path: Path) -> dict[str, str]:
    pem = throwaway_pem()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
    environment.update(
        {
            "TRIAD_APP_ID": "99",
            "TRIAD_PRIVATE_KEY": pem,
            "TRIAD_WEBHOOK_SECRET": SECRET,
            "TRIAD_DATABASE_URL": f"sqlite:///{tmp_path / 'triad.db'}",
            "TRIAD_LOG_FORMAT": "json",
            "TRIAD_BOT_LOGIN": "triad[bot]",
            # nothing listens there: these processes never reach a GitHub
            "TRIAD_GITHUB_API_URL": "http://127.0.0.1:9",
        }
    )
    return environment


def _triad(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("server never became healthy")


def test_serve_ingests_runs_the_job_and_drains_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _triad("serve", "--port", str(port), env=_environment(tmp_path))
    try:
        _wait_healthy(url, process)
        # a button of Triad's check run that names no workflow: queued (the door cannot tell
        # from the payload or the store), and the job ends done with no GitHub request
        body = json.dumps(
            {
                "action": "requested_action",
                "check_run": {
                    "id": 9,
                    "head_sha": "a" * 40,
                    "external_id": "",
                    "app": {"id": 99, "slug": "triad"},
                },
                "requested_action": {"identifier": "accept"},
                "sender": {"login": "al", "id": 1},
                "installation": {"id": 8},
                "repository": {
                    "id": 5,
                    "name": "repo",
                    "full_name": "octo/repo",
                    "owner": {"login": "octo", "id": 2},
                },
            }
        ).encode()
        answer = httpx.post(
            f"{url}/api/github/webhooks",
            content=body,
            headers={
                "X-GitHub-Event": "check_run",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(body, SECRET),
            },
        )
        assert answer.status_code == 202
        deadline = time.monotonic() + 10
        with sqlite3.connect(tmp_path / "triad.db") as db:
            while db.execute("SELECT state FROM jobs").fetchone() != ("done",):
                assert time.monotonic() < deadline, "the in-process worker never ran the job"
                time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    messages = [json.loads(line)["message"] for line in stderr.splitlines() if line.startswith("{")]
    assert "delivery stored" in messages and "worker pool stopped" in messages
    assert SECRET not in stderr


def test_worker_alone_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = _triad("worker", "--concurrency", "2", env=_environment(tmp_path))
    deadline = time.monotonic() + 20
    while not (tmp_path / "triad.db").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "worker pool stopped" in stderr


@pytest.mark.parametrize(
    ("variable", "line"),
    [
        ("TRIAD_WEBHOOK_SECRET", "triad: error: TRIAD_WEBHOOK_SECRET is not set"),
        ("TRIAD_APP_ID", "triad: error: TRIAD_APP_ID is not set"),
    ],
)
def test_a_missing_setting_stops_serve_with_one_line(
    tmp_path: Path, variable: str, line: str
) -> None:
    environment = _environment(tmp_path)
    del environment[variable]
    process = _triad("serve", env=environment)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stderr.strip().splitlines() == [stderr.strip().splitlines()[0]]
    assert stderr.startswith(line)


@pytest.mark.parametrize("secret", ["", "short"])
def test_a_weak_webhook_secret_stops_serve_with_one_line(tmp_path: Path, secret: str) -> None:
    environment = _environment(tmp_path) | {"TRIAD_WEBHOOK_SECRET": secret}
    process = _triad("serve", env=environment)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith("triad: error: TRIAD_WEBHOOK_SECRET is invalid: too weak")
    assert "secrets.token_hex(32)" in stderr


def test_help_describes_every_command(tmp_path: Path) -> None:
    process = _triad("--help", env=_environment(tmp_path))
    stdout, _ = process.communicate(timeout=30)
    for command in ("serve", "worker", "demo"):
        assert command in stdout
    for command in ("serve", "worker", "demo"):
        process = _triad(command, "--help", env=_environment(tmp_path))
        stdout, _ = process.communicate(timeout=30)
        assert process.returncode == 0 and "usage: triad" in stdout
