"""How fast Triad's processes start: wall time and CPU from `exec` until `triad worker` claims its
first job (its pool started) and until `triad serve --job-concurrency 0` answers /healthz.

    .venv/bin/python bench/worker_start.py --runs 10

A worker killed every few seconds pays its start each time (issue 18): it must import only
what it runs. Prints the median and worst of each, and which heavy modules a worker loaded.
"""

from __future__ import annotations

import argparse
import ast
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triad_lab.crash.processes import cpu_seconds, free_port

#: never parsed: these processes make no GitHub request
KEY = "-----BEGIN RSA PRIVATE KEY-----\nunused\n-----END RSA PRIVATE KEY-----\n"


def _environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
    env.update(
        {
            "TRIAD_APP_ID": "1",
            "TRIAD_PRIVATE_KEY": KEY,
            "TRIAD_WEBHOOK_SECRET": "bench",
            "TRIAD_DATABASE_URL": f"sqlite:///{workdir / 'triad.db'}",
            "TRIAD_GITHUB_API_URL": "http://127.0.0.1:9",
            "TRIAD_BOT_LOGIN": "triad[bot]",
            "TRIAD_LOG_FORMAT": "json",
            "TRIAD_LOG_LEVEL": "INFO",
        }
    )
    return env


def worker_start(env: dict[str, str]) -> tuple[float, float]:
    """Seconds of wall and CPU until the worker logs that its pool started."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker", "--concurrency", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "worker pool started" in line:
            wall, cpu = time.monotonic() - started, cpu_seconds(process.pid)
            break
    else:
        raise RuntimeError("the worker exited before its pool started")
    process.send_signal(signal.SIGKILL)
    process.wait()
    return wall, cpu


def web_start(env: dict[str, str]) -> tuple[float, float]:
    """Seconds of wall and CPU until a web-only server answers /healthz."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--job-concurrency", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(timeout=1) as client:
            while True:
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        return time.monotonic() - started, cpu_seconds(process.pid)
                except httpx.TransportError:
                    time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def heavy_modules_of_a_worker() -> list[str]:
    code = (
        "import sys\n"
        "from bot.runtime import build_pool\n"
        "from bot.metrics import Metrics\n"
        "from bot.settings import load_settings\n"
        "from bot.store import open_store\n"
        "build_pool(load_settings(), open_store('sqlite:///:memory:'), Metrics(), 4)\n"
        "heavy = ('anthropic', 'openai', 'fastapi', 'uvicorn', 'triad_lab')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    with tempfile.TemporaryDirectory() as workdir:
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=_environment(Path(workdir)),
            capture_output=True,
            text=True,
            check=True,
        )
    modules: list[str] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return modules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        env = _environment(Path(workdir))
        worker_start(env)  # the first start creates the database
        for name, measure in (("triad worker", worker_start), ("triad serve (web)", web_start)):
            samples = [measure(env) for _ in range(args.runs)]
            walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
            print(
                f"{name}: start wall median {statistics.median(walls):.2f} s "
                f"(worst {max(walls):.2f}), CPU median {statistics.median(cpus):.2f} s "
                f"(worst {max(cpus):.2f}) over {args.runs} starts"
            )
    print(f"heavy modules a worker loads at start: {heavy_modules_of_a_worker() or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
