"""How fast Triad's processes start: wall time and CPU from `exec` until `triad worker` claims its
first job (its pool started) and until `triad serve --job-concurrency 0` answers /healthz, as
ratios of a baseline measured in the same rounds (`python -c "import bot"`).

    .venv/bin/python bench/worker_start.py --runs 10

A worker killed every few seconds pays its start each time (issue 18): it must import only
what it runs. Rounds interleave the three starts; prints the median and worst of each, their
ratio to the baseline, the starts that failed, and which heavy modules a worker loaded.
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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triad_lab.crash.processes import cpu_seconds
from triad_lab.keys import throwaway_pem
from triad_lab.ports import free_port

#: a start that takes longer than this failed (counted, not waited for forever)
DEADLINE_SECONDS = 30.0

Sample = tuple[float, float]


def _environment(workdir: Path, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
    env.update(
        {
            "TRIAD_APP_ID": "1",
            "TRIAD_PRIVATE_KEY": key,
            "TRIAD_WEBHOOK_SECRET": "bench-webhook-secret-of-32-chars",
            "TRIAD_DATABASE_URL": f"sqlite:///{workdir / 'triad.db'}",
            "TRIAD_GITHUB_API_URL": "http://127.0.0.1:9",
            "TRIAD_BOT_LOGIN": "triad[bot]",
            "TRIAD_LOG_FORMAT": "json",
            # the start is timed by a line's arrival: written at once, not batched
            "TRIAD_LOG_BATCH_SECONDS": "0",
            "TRIAD_LOG_LEVEL": "INFO",
        }
    )
    return env


def baseline(env: dict[str, str]) -> Sample:
    """Seconds of wall and CPU of `python -c "import bot"`: the interpreter and the package."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", "import bot"], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"`import bot` exited {process.returncode}")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def worker_start(env: dict[str, str]) -> Sample:
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
    # a worker that never starts is killed at the deadline: its stderr ends, the loop too
    timer = threading.Timer(DEADLINE_SECONDS, process.kill)
    timer.start()
    try:
        for line in process.stderr:
            if "worker pool started" in line:
                return time.monotonic() - started, cpu_seconds(process.pid)
        raise RuntimeError(f"the worker exited ({process.wait()}) before its pool started")
    finally:
        timer.cancel()
        process.send_signal(signal.SIGKILL)
        process.wait()


def web_start(env: dict[str, str]) -> Sample:
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
            while time.monotonic() - started < DEADLINE_SECONDS:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited ({process.returncode}) at start")
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        return time.monotonic() - started, cpu_seconds(process.pid)
                except httpx.TransportError:
                    time.sleep(0.02)
        raise RuntimeError(f"the server did not answer within {DEADLINE_SECONDS:.0f} s")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def heavy_modules_of_a_worker(env: dict[str, str]) -> list[str]:
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
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    modules: list[str] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return modules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    measures: dict[str, Callable[[dict[str, str]], Sample]] = {
        "baseline (import bot)": baseline,
        "triad worker": worker_start,
        "triad serve (web)": web_start,
    }
    samples: dict[str, list[Sample]] = {name: [] for name in measures}
    errors = dict.fromkeys(measures, 0)
    with tempfile.TemporaryDirectory() as workdir:
        env = _environment(Path(workdir), throwaway_pem())
        worker_start(env)  # the first start creates the database
        for _ in range(args.runs):  # interleaved: the machine's load weighs on all alike
            for name, measure in measures.items():
                try:
                    samples[name].append(measure(env))
                except RuntimeError as exc:
                    errors[name] += 1
                    print(f"{name}: failed: {exc}", file=sys.stderr)
        heavy = heavy_modules_of_a_worker(env)
    base = samples["baseline (import bot)"]
    base_wall = statistics.median(s[0] for s in base) if base else float("nan")
    base_cpu = statistics.median(s[1] for s in base) if base else float("nan")
    for name, taken in samples.items():
        if not taken:
            print(f"{name}: no start succeeded ({errors[name]} failed)")
            continue
        walls, cpus = [s[0] for s in taken], [s[1] for s in taken]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(
            f"{name}: start wall median {wall:.2f} s (worst {max(walls):.2f}, "
            f"{wall / base_wall:.1f}x baseline), CPU median {cpu:.2f} s (worst {max(cpus):.2f}, "
            f"{cpu / base_cpu:.1f}x baseline) over {len(taken)} starts, {errors[name]} failed"
        )
    print(f"heavy modules a worker loads at start: {heavy or 'none'}")
    return 1 if any(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
