"""Operating `triad` as an operator would, with real processes: every bad setting is one line,
the admin port and the worker's metrics port answer, and a dead letter is retried from the CLI
while the server runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.github.signature import sign
from bot.store import Delivery, DeliveryOutcome, JobState, NewJob, open_store
from tests.test_processes import SECRET, _environment, _triad, _wait_healthy
from triad_lab.ports import free_port


def _one_error_line(process: subprocess.Popen[str]) -> str:
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("triad: error: ")
    return lines[0]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_error_line(_triad("serve", "--port", str(port), env=_environment(tmp_path)))
        assert line == (
            f"triad: error: --port {port}: cannot listen on 127.0.0.1:{port}: "
            "Address already in use"
        )
        free = free_port()
        line = _one_error_line(
            _triad(
                "serve",
                "--port",
                str(free),
                "--admin-port",
                str(port),
                env=_environment(tmp_path),
            )
        )
        assert line.startswith(f"triad: error: --admin-port (TRIAD_ADMIN_PORT) {port}: ")


def test_postgresql_not_listening_is_one_line(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    environment["TRIAD_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/triad"
    line = _one_error_line(_triad("serve", "--port", str(free_port()), env=environment))
    assert line.startswith("triad: error: TRIAD_DATABASE_URL: cannot connect to PostgreSQL: ")
    assert "port 9 failed: Connection refused" in line


def test_a_missing_postgresql_database_is_one_line_in_the_servers_words(tmp_path: Path) -> None:
    base = os.environ.get("TRIAD_TEST_DATABASE_URL")
    if not base:
        pytest.skip("needs TRIAD_TEST_DATABASE_URL (a PostgreSQL server)")
    environment = _environment(tmp_path)
    environment["TRIAD_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/triad_missing_db"
    line = _one_error_line(_triad("worker", env=environment))
    assert line.endswith('FATAL: database "triad_missing_db" does not exist')


def test_every_missing_setting_is_named_at_once(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    for name in ("TRIAD_APP_ID", "TRIAD_PRIVATE_KEY", "TRIAD_WEBHOOK_SECRET"):
        del environment[name]
    environment["TRIAD_GITHUB_API_URL"] = "api.github.com"
    # (`triad serve` with no App at all offers the registration page instead: test_setup_browser)
    line = _one_error_line(_triad("worker", env=environment))
    for name in ("TRIAD_APP_ID", "TRIAD_PRIVATE_KEY"):
        assert f"{name} is not set" in line
    assert "TRIAD_GITHUB_API_URL is invalid: must be an http:// or https:// address" in line
    assert "TRIAD_WEBHOOK_SECRET" not in line  # a worker receives no webhooks


def test_an_unreadable_key_file_hides_no_other_problem(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    del environment["TRIAD_PRIVATE_KEY"], environment["TRIAD_WEBHOOK_SECRET"]
    environment.update(
        {"TRIAD_PRIVATE_KEY_PATH": str(tmp_path / "nowhere.pem"), "TRIAD_LOG_FORMAT": "xml"}
    )
    line = _one_error_line(_triad("serve", "--port", str(free_port()), env=environment))
    assert f"TRIAD_PRIVATE_KEY_PATH: cannot read {tmp_path / 'nowhere.pem'}" in line
    assert "TRIAD_WEBHOOK_SECRET is not set" in line and "TRIAD_LOG_FORMAT is invalid" in line
    assert not (tmp_path / "triad.db").exists()


def test_an_admin_port_beyond_loopback_without_a_token_does_not_start(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    environment["TRIAD_ADMIN_HOST"] = "0.0.0.0"
    for command in (
        ["serve", "--port", str(free_port()), "--admin-port", str(free_port())],
        ["worker", "--metrics-port", str(free_port())],
    ):
        line = _one_error_line(_triad(*command, env=environment))
        assert line.startswith(
            "triad: error: TRIAD_ADMIN_HOST is 0.0.0.0, beyond loopback, and TRIAD_ADMIN_TOKEN "
            "is not set: "
        )
    assert not (tmp_path / "triad.db").exists()


def test_one_port_given_twice_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    line = _one_error_line(
        _triad("serve", "--port", str(port), "--admin-port", str(port),
               env=_environment(tmp_path))
    )  # fmt: skip
    assert line == (
        f"triad: error: --admin-port (TRIAD_ADMIN_PORT) {port}: cannot listen on "
        f"127.0.0.1:{port}: Address already in use"
    )


def test_every_malformed_setting_is_named_at_once(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    environment.update(
        {"TRIAD_PRIVATE_KEY": "not a key", "TRIAD_APP_ID": "twelve",
         "TRIAD_ADMIN_PORT": "99999", "TRIAD_DELIVERY_RETENTION_DAYS": "0"}
    )  # fmt: skip
    line = _one_error_line(_triad("worker", env=environment))
    for name in (
        "TRIAD_APP_ID",
        "TRIAD_PRIVATE_KEY",
        "TRIAD_ADMIN_PORT",
        "TRIAD_DELIVERY_RETENTION_DAYS",
    ):
        assert f"{name} is invalid" in line


def test_a_web_only_process_on_sqlite_warns_that_no_worker_runs_its_jobs(tmp_path: Path) -> None:
    port = free_port()
    process = _triad("serve", "--port", str(port), "--job-concurrency", "0",
                     env=_environment(tmp_path))  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    warnings = [
        entry for entry in map(json.loads, stderr.splitlines()) if entry["level"] == "warning"
    ]
    assert any("no worker in this process will run the jobs" in w["message"] for w in warnings)


def test_the_worker_serves_healthz_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    process = _triad("worker", "--metrics-port", str(port), env=_environment(tmp_path))
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert metrics.status_code == 200 and 'triad_jobs{state="dead"} 0.0' in metrics.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    for line in stderr.splitlines():
        entry = json.loads(line)  # clean JSON lines, with no ANSI colour copy
        assert "color_message" not in entry and "\x1b" not in line


def test_a_dead_letter_is_retried_from_the_cli_while_the_server_runs(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    environment["TRIAD_ADMIN_TOKEN"] = "ops-token"
    job_id = asyncio.run(_a_dead_delivery_job(tmp_path / "triad.db"))
    port, admin = free_port(), free_port()
    process = _triad("serve", "--port", str(port), "--admin-port", str(admin), env=environment)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{admin}/metrics").status_code == 401
        metrics = httpx.get(
            f"http://127.0.0.1:{admin}/metrics", headers={"Authorization": "Bearer ops-token"}
        )
        assert 'triad_dead_letters{kind="delivery"} 1.0' in metrics.text
        retry = subprocess.run(
            [*_cli(), "jobs", "retry", str(job_id)], env=environment, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert retry.returncode == 0 and retry.stdout == f"job {job_id}: queued again\n"
        deadline = time.monotonic() + 20
        with sqlite3.connect(tmp_path / "triad.db") as db:
            query = "SELECT state FROM jobs WHERE id = ?"
            while db.execute(query, (job_id,)).fetchone() != ("done",):
                assert time.monotonic() < deadline, "the running server never ran the job"
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "ops-token" not in stderr


async def _a_dead_delivery_job(path: Path) -> int:
    body = json.dumps(
        {"action": "labeled",
         "issue": {"number": 3, "title": "t", "user": {"login": "al", "id": 1}},
         "label": {"name": "triad:design"}, "sender": {"login": "al", "id": 1},
         "installation": {"id": 8}}
    ).encode()  # fmt: skip
    async with open_store(f"sqlite:///{path}") as store:
        delivery = Delivery("d-dead", "issues", "labeled", 8, None, "al",
                            DeliveryOutcome.QUEUED, body)  # fmt: skip
        job = NewJob("delivery", "delivery:d-dead", {"delivery_id": "d-dead"})
        await store.record_delivery(delivery, job)
        claimed = await store.claim("old-worker", 30)
        assert claimed is not None
        assert await store.fail(claimed.id, "old-worker", "boom", None) is JobState.DEAD
        return claimed.id


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "bot.cli"]


def test_stopping_takes_the_drain_time_once(tmp_path: Path) -> None:
    """A request still arriving and a job still running when SIGTERM comes: the server's
    shutdown and the workers' drain run at once, so the process has stopped after about
    TRIAD_DRAIN_SECONDS, not twice that (measured to its last log line: the interpreter's own
    exit after it takes a second or two on a busy machine, whatever Triad does)."""
    drain = 4
    with socket.socket() as github:  # listens, never accepts: every GitHub call hangs
        github.bind(("127.0.0.1", 0))
        github.listen()
        environment = _environment(tmp_path)
        environment.update(
            {"TRIAD_DRAIN_SECONDS": str(drain),
             "TRIAD_GITHUB_API_URL": f"http://127.0.0.1:{github.getsockname()[1]}"}
        )  # fmt: skip
        port = free_port()
        process = _triad("serve", "--port", str(port), env=environment)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", process)
            body = json.dumps(
                {"action": "labeled", "sender": {"login": "al", "id": 1},
                 "issue": {"number": 3, "title": "t", "user": {"login": "al", "id": 1}},
                 "label": {"name": "triad:design"}, "installation": {"id": 8},
                 "repository": {"id": 5, "name": "repo", "full_name": "octo/repo",
                                "owner": {"login": "octo", "id": 2}}}
            ).encode()  # fmt: skip
            answer = httpx.post(
                f"http://127.0.0.1:{port}/api/github/webhooks",
                content=body,
                headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-stop",
                         "X-Hub-Signature-256": sign(body, SECRET)},
            )  # fmt: skip
            assert answer.status_code == 202
            _wait_for_job_state(tmp_path / "triad.db", "running")
            # a delivery whose body has not all arrived keeps the server's shutdown waiting
            slow = socket.create_connection(("127.0.0.1", port))
            slow.sendall(
                b"POST /api/github/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Length: 1000\r\nX-GitHub-Event: issues\r\n\r\n{"
            )
            time.sleep(0.3)
            signalled = datetime.now(UTC)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=4 * drain)
            slow.close()
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert "job released on shutdown" in [entry["message"] for entry in entries]
    stopped = datetime.fromisoformat(entries[-1]["time"])
    elapsed = (stopped - signalled).total_seconds()
    assert elapsed < drain + 1.5, f"stopping took {elapsed:.1f} s with a {drain} s drain"
    with sqlite3.connect(tmp_path / "triad.db") as db:
        assert db.execute("SELECT state FROM jobs").fetchall() == [("queued",)]


def _wait_for_job_state(database: Path, state: str) -> None:
    deadline = time.monotonic() + 20
    with sqlite3.connect(database) as db:
        while db.execute("SELECT state FROM jobs").fetchall() != [(state,)]:
            assert time.monotonic() < deadline, f"the job never became {state}"
            time.sleep(0.05)
