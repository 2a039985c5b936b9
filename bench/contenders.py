"""The servers the ingest benchmark compares, each started as its own process with a fresh
database, and the CPU its process tree spent (read from /proc); on PostgreSQL (Triad, the
floor) also the CPU of the PostgreSQL backends serving its database (SQLite's work is
in-process)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from payloads import SECRET

from triad_lab.keys import throwaway_pem

ROOT = Path(__file__).resolve().parents[1]
PROBOT = ROOT / "bench" / "probot"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Contender:
    """How to start one server; `prepare` runs before each start (a fresh database)."""

    name: str
    argv: Callable[[int], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] = lambda: None
    cwd: Path = ROOT
    #: what the table says about it
    note: str = ""
    #: CPU seconds spent for it outside its process tree so far (its database's server)
    server_cpu: Callable[[], float] | None = None
    #: whether it stores a delivery before it answers
    stores: bool = True


@dataclass
class Running:
    contender: Contender
    port: int
    process: subprocess.Popen[bytes]

    def cpu(self) -> float:
        """User + system CPU seconds of the process and every live descendant so far (and the
        reaped children it waited for), plus what its database's server spent for it."""
        own = sum(_cpu(pid, pid == self.process.pid) for pid in _tree(self.process.pid))
        server = self.contender.server_cpu() if self.contender.server_cpu else 0.0
        return own + server

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(contender: Contender, port: int, log: Path) -> Running:
    contender.prepare()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
    env.update(contender.env)
    with log.open("ab") as out:
        process = subprocess.Popen(
            contender.argv(port),
            env=env,
            cwd=contender.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(contender, port, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{contender.name} exited at start: see {log}")
        try:
            httpx.post(f"http://127.0.0.1:{port}/api/github/webhooks", content=b"{}", timeout=1)
            return running
        except httpx.TransportError:
            time.sleep(0.05)
    running.stop()
    raise RuntimeError(f"{contender.name} did not answer within 60 s: see {log}")


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu(pid: int, with_reaped: bool) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


#: both Triad and Probot parse their key at start
KEY = throwaway_pem()


def _triad_env(database_url: str, log_level: str) -> dict[str, str]:
    return {
        "TRIAD_APP_ID": "1",
        "TRIAD_PRIVATE_KEY": KEY,
        "TRIAD_WEBHOOK_SECRET": SECRET,
        "TRIAD_DATABASE_URL": database_url,
        "TRIAD_LOG_LEVEL": log_level,
        "TRIAD_BOT_LOGIN": "triad[bot]",
        # nothing answers here: a job that reaches for GitHub fails at once and backs off
        "TRIAD_GITHUB_API_URL": "http://127.0.0.1:9",
        "PYTHONPATH": str(ROOT),
    }


def _fresh_sqlite(path: Path) -> Callable[[], None]:
    def prepare() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return prepare


def _fresh_postgres(admin_url: str, name: str) -> Callable[[], None]:
    def prepare() -> None:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")

    return prepare


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to database `name` (their pids from
    pg_stat_activity, their CPU from /proc: the server must run on this machine). A backend
    keeps the last figure read for it once it is gone, so the total never goes back; what it
    spent after that last read, and the server-wide WAL writer and checkpointer, are not
    counted (a small undercount)."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self.seen: dict[int, float] = {}

    def __call__(self) -> float:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,)
            ).fetchall()
        for (pid,) in rows:
            if Path(f"/proc/{pid}/stat").exists():
                self.seen[pid] = _cpu(pid, False)
        return sum(self.seen.values())


def drop_postgres(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def probot_ready(log: Path) -> str | None:
    """Why Probot cannot run here, or None once its node_modules are installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js (node and npm) is not installed"
    if not (PROBOT / "node_modules" / "probot").is_dir():
        with log.open("ab") as out:
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund"],
                cwd=PROBOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0:
            return f"`npm install` in bench/probot failed: see {log}"
    return None


#: Probot's name of each log level the harness may run at
PROBOT_LEVELS = {"WARNING": "warn", "INFO": "info"}


def at_log_level(contender: Contender, level: str) -> Contender | None:
    """`contender` logging at `level`, as one more contender (None: it writes no logs)."""
    env = dict(contender.env)
    if "TRIAD_LOG_LEVEL" in env:
        env["TRIAD_LOG_LEVEL"] = level
    elif "LOG_LEVEL" in env:  # Probot
        env["LOG_LEVEL"] = PROBOT_LEVELS[level]
    else:
        return None
    return replace(
        contender,
        name=f"{contender.name}:{level.lower()}",
        env=env,
        note=f"{contender.note}, logging at {level}",
    )


def contenders(
    scratch: Path, postgres_url: str | None, probot: bool, log_level: str = "WARNING"
) -> list[Contender]:
    """Every contender; Triad and Probot log at `log_level` (INFO: a line a delivery each)."""
    python = sys.executable
    sqlite_url = f"sqlite:///{scratch / 'triad.db'}"

    def serve(concurrency: int) -> Callable[[int], list[str]]:
        return lambda port: [
            python,
            "-m",
            "bot.cli",
            "serve",
            "--port",
            str(port),
            "--job-concurrency",
            str(concurrency),
        ]

    def uvicorn(app: str) -> Callable[[int], list[str]]:
        return lambda port: [
            python,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]

    floor_note = (
        "the floor (`bench/floor_app.py`): HMAC, Triad's read, the body stored as Triad keeps"
        " it; {}"
    )
    found = [
        Contender(
            "bare",
            uvicorn("bench.bare_app:app"),
            {"TRIAD_WEBHOOK_SECRET": SECRET},
            note="FastAPI, reads the body and checks the HMAC; stores nothing",
            stores=False,
        ),
        Contender(
            "floor-sqlite",
            uvicorn("bench.floor_app:app"),
            {"TRIAD_WEBHOOK_SECRET": SECRET, "FLOOR_DATABASE_URL": sqlite_url},
            _fresh_sqlite(scratch / "triad.db"),
            note=floor_note.format("SQLite"),
        ),
        Contender(
            "triad-sqlite",
            serve(0),
            _triad_env(sqlite_url, log_level),
            _fresh_sqlite(scratch / "triad.db"),
            note="`triad serve --job-concurrency 0`, SQLite",
        ),
        Contender(
            "triad-workers",
            serve(4),
            {**_triad_env(sqlite_url, log_level), "TRIAD_WORKER_CONCURRENCY": "4"},
            _fresh_sqlite(scratch / "triad.db"),
            note="`triad serve` with 4 in-process workers, SQLite (GitHub unreachable)",
        ),
    ]
    if postgres_url:
        admin_url, _, _ = postgres_url.rpartition("/")
        name = f"triad_bench_{os.getpid()}"
        found[3:3] = [
            Contender(
                "floor-postgres",
                uvicorn("bench.floor_app:app"),
                {"TRIAD_WEBHOOK_SECRET": SECRET, "FLOOR_DATABASE_URL": f"{admin_url}/{name}"},
                _fresh_postgres(postgres_url, name),
                note=floor_note.format("PostgreSQL (its backends' CPU counted)"),
                server_cpu=BackendCpu(postgres_url, name),
            ),
            Contender(
                "triad-postgres",
                serve(0),
                _triad_env(f"{admin_url}/{name}", log_level),
                _fresh_postgres(postgres_url, name),
                note="`triad serve --job-concurrency 0`, PostgreSQL",
                server_cpu=BackendCpu(postgres_url, name),
            ),
        ]
    if probot:
        found.append(
            Contender(
                "probot",
                lambda port: [
                    "node",
                    str(PROBOT / "node_modules" / "probot" / "bin" / "probot.js"),
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--webhook-path",
                    "/api/github/webhooks",
                    str(PROBOT / "index.js"),
                ],
                {
                    "APP_ID": "1",
                    "PRIVATE_KEY": KEY,
                    "WEBHOOK_SECRET": SECRET,
                    "LOG_LEVEL": PROBOT_LEVELS[log_level],
                    "NODE_ENV": "production",
                },
                cwd=PROBOT,
                note="Probot 14, an empty handler; stores nothing",
                stores=False,
            )
        )
    return found
