"""Webhook ingest, side by side: Triad (SQLite, PostgreSQL, with in-process workers), a bare
HMAC endpoint, the floor of a durable endpoint (`floor_app.py`, on each backend) and Probot 14,
each its own process, interleaved over rounds; medians reported.

    .venv/bin/python bench/harness.py --rounds 5 --seconds 5 --rate 100

Each round starts every contender in turn (the order rotates each round) with a fresh database,
warms it up (a second as fast as 8 connections go; the in-process workers then work off the
jobs it queued), then runs the load generator (bench/loadgen.py, its own process) twice: at
`--rate` deliveries/s offered, open loop (p50/p99 from each delivery's due time; a timeout or
connection error counts at the timeout, and a p99 shown "≥" had over 1% of them; with the
in-process workers, the jobs still due when it ends), then as fast as `--connections`
connections go (throughput, CPU per delivery). CPU is the server's process
tree's user + system time from /proc over the phase (on PostgreSQL plus the
PostgreSQL backends serving its database, `contenders.BackendCpu`), divided by the
deliveries answered 2xx. The deliveries are the real example payloads in
tests/fixtures/github-webhooks, each made unique. Every non-2xx answer, timeout and
connection error is counted and shown. `--baseline REF` runs Triad as checked out at REF too
(a detached worktree, this tree's interpreter and dependencies): each Triad contender again as
`NAME@REF`, in the same rounds, so a change is measured against what it changed, interleaved.
Triad and Probot log at WARNING; `--log-level WARNING,INFO` runs each of them at INFO too
(`NAME:info`: their default, a log line a delivery), in the same rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contenders import (
    PROBOT_LEVELS,
    Contender,
    Running,
    at_log_level,
    contenders,
    drop_postgres,
    probot_ready,
    start,
)

from triad_lab.checkout import checkout
from triad_lab.ports import free_port

HERE = Path(__file__).resolve().parent


@dataclass
class Samples:
    """One contender's figures, one entry per round."""

    per_second: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    rate_p50: list[float] = field(default_factory=list)
    rate_p99: list[float] = field(default_factory=list)
    rate_cpu_ms: list[float] = field(default_factory=list)
    failures: int = 0
    rate_failures: int = 0
    #: a round whose unanswered deliveries (counted at the timeout) exceeded 1%
    rate_p99_floor: bool = False
    #: jobs due or running, and jobs waiting to retry, when the rate phase ended
    backlog: list[tuple[int, int]] = field(default_factory=list)


def postgres_unreachable(url: str) -> str | None:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        return " ".join(str(exc).split())
    return None


def load(port: int, first: int, *options: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "loadgen.py"),
            "--port",
            str(port),
            "--first",
            str(first),
            *options,
        ],
        capture_output=True,
        check=True,
        text=True,
        timeout=600,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def failures(figures: dict[str, Any]) -> int:
    return int(
        sum(figures["non_success"].values()) + figures["timeouts"] + figures["connection_errors"]
    )


def phase(running: Running, first: int, *options: str) -> tuple[dict[str, Any], float]:
    """The generator's figures and the server's CPU ms per 2xx delivery."""
    before = running.cpu()
    figures = load(running.port, first, *options)
    spent = running.cpu() - before
    return figures, 1000 * spent / max(figures["ok"], 1)


def backlog(contender: Contender) -> tuple[int, int] | None:
    """Jobs due or running (the workers' backlog), and jobs waiting for a retry, now."""
    url = contender.env.get("TRIAD_DATABASE_URL", "")
    if not url.startswith("sqlite:///"):
        return None
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        due, later = connection.execute(
            "SELECT COALESCE(SUM(state = 'running' OR (state = 'queued' AND run_at <= ?)), 0),"
            " COALESCE(SUM(state = 'queued' AND run_at > ?), 0) FROM jobs",
            (time.time(), time.time()),
        ).fetchone()
    return int(due), int(later)


def at_revision(contender: Contender, ref: str, tree: Path) -> Contender:
    """`contender` running the Triad checked out at `tree` (REF) with this tree's interpreter
    and dependencies, one at a time with the others, so it may share their scratch database."""
    return replace(
        contender,
        name=f"{contender.name}@{ref}",
        env={**contender.env, "PYTHONPATH": str(tree)},
        cwd=tree,
        note=f"{contender.note}, at {ref}",
    )


def drained(contender: Contender, timeout: float = 60.0) -> None:
    """Until the in-process workers have no job due (each failed its first attempt: GitHub is
    unreachable, and a retry waits a minute)."""
    deadline = time.monotonic() + timeout
    while (waiting := backlog(contender)) is not None and waiting[0] > 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{contender.name}: {waiting[0]} jobs still due after warm-up")
        time.sleep(0.2)


def one_round(
    found: list[Contender],
    args: argparse.Namespace,
    samples: dict[str, Samples],
    sequence: int,
    logs: Path,
) -> int:
    for contender in found:
        running = start(contender, free_port(), logs / f"{contender.name}.log")
        try:
            load(running.port, sequence, "--mode", "max", "--seconds", "1", "--connections", "8")
            sequence += 1_000_000
            if contender.name.startswith("triad-workers"):
                drained(contender)  # the warm-up's jobs are not the rate phase's backlog
            time.sleep(0.5)
            offered, rate_cpu = phase(
                running,
                sequence,
                "--mode",
                "rate",
                "--seconds",
                str(args.seconds),
                "--rate",
                str(args.rate),
            )
            sequence += 1_000_000
            waiting = backlog(contender) if contender.name.startswith("triad-workers") else None
            time.sleep(0.5)
            top, cpu = phase(
                running,
                sequence,
                "--mode",
                "max",
                "--seconds",
                str(args.seconds),
                "--connections",
                str(args.connections),
            )
            sequence += 1_000_000
        finally:
            running.stop()
        mine = samples[contender.name]
        mine.per_second.append(top["per_second"])
        mine.cpu_ms.append(cpu)
        mine.failures += failures(top)
        mine.rate_p50.append(offered["p50_ms"] or float("nan"))
        mine.rate_p99.append(offered["p99_ms"] or float("nan"))
        mine.rate_cpu_ms.append(rate_cpu)
        mine.rate_failures += failures(offered)
        mine.rate_p99_floor |= bool(offered.get("p99_at_least_timeout"))
        if waiting is not None:
            mine.backlog.append(waiting)
        print(
            f"  {contender.name:<15} {top['per_second']:7.0f}/s  {cpu:6.2f} ms CPU"
            f"  | at {args.rate:g}/s p50 {offered['p50_ms'] or 0:6.1f} ms"
            f"  p99 {offered['p99_ms'] or 0:7.1f} ms  failures {failures(top)}+{failures(offered)}"
            + (f"  jobs due {waiting[0]}, to retry {waiting[1]}" if waiting is not None else ""),
            flush=True,
        )
    return sequence


def _ratio(mine: list[float], bare: list[float]) -> float:
    """The median over rounds of this round's figure over the bare endpoint's in the same
    round: the machine's load drifts between rounds, a round's contenders run minutes apart."""
    return statistics.median(m / b for m, b in zip(mine, bare, strict=True))


def tables(found: list[Contender], samples: dict[str, Samples], args: argparse.Namespace) -> str:
    median = statistics.median
    bare = samples["bare"]
    lines = [
        f"Max throughput ({args.connections} connections, {args.seconds:g} s per round, "
        f"medians of {args.rounds} rounds; ratios are medians of each round's ratio; "
        f"Triad and Probot log at {args.log_level[0]} unless a row says otherwise):",
        "",
        "| server | deliveries/s | vs bare | CPU ms/delivery | CPU vs bare | failures | "
        "stored before ack |",
        "|---|---|---|---|---|---|---|",
    ]
    for contender in found:
        mine = samples[contender.name]
        lines.append(
            f"| {contender.note} | {median(mine.per_second):.0f} | "
            f"{_ratio(mine.per_second, bare.per_second):.2f} | "
            f"{median(mine.cpu_ms):.2f} | {_ratio(mine.cpu_ms, bare.cpu_ms):.1f}× | "
            f"{mine.failures} | {'yes' if contender.stores else 'no'} |"
        )
    lines += [
        "",
        f"At {args.rate:g} deliveries/s offered (open loop, latency from each delivery's due "
        "time):",
        "",
        "| server | p50 ms | p99 ms | CPU ms/delivery | failures | jobs due / retrying at end |",
        "|---|---|---|---|---|---|",
    ]
    for contender in found:
        mine = samples[contender.name]
        waiting = "-"
        if mine.backlog:
            due = median(b[0] for b in mine.backlog)
            waiting = f"{due:.0f} / {median(b[1] for b in mine.backlog):.0f}"
        lines.append(
            f"| {contender.note} | {median(mine.rate_p50):.1f} | "
            f"{'≥ ' if mine.rate_p99_floor else ''}{median(mine.rate_p99):.1f} | "
            f"{median(mine.rate_cpu_ms):.2f} | {mine.rate_failures} | {waiting} |"
        )
    return "\n".join(lines)


def _only(found: list[Contender], names: list[str]) -> list[Contender]:
    """The contenders named (`triad-sqlite` names its copies at other levels too) and the bare
    endpoint, every ratio's baseline; a name that matches none stops the run."""
    unknown = set(names) - {name for c in found for name in (c.name, c.name.partition(":")[0])}
    if unknown:
        raise SystemExit(f"--only: no contender named {', '.join(sorted(unknown))} here")
    wanted = {"bare", *names}
    return [c for c in found if c.name in wanted or c.name.partition(":")[0] in wanted]


def _levels(text: str) -> list[str]:
    levels = [level.strip().upper() for level in text.split(",")]
    unknown = [level for level in levels if level not in PROBOT_LEVELS]
    if unknown or len(set(levels)) < len(levels):
        raise argparse.ArgumentTypeError(f"levels from {sorted(PROBOT_LEVELS)}, each once")
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--connections", type=int, default=32, help="max-throughput phase")
    parser.add_argument("--rate", type=float, default=100.0, help="offered deliveries/s")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TRIAD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server to make a scratch database on ('' to leave PostgreSQL out)",
    )
    parser.add_argument("--only", default="", help="comma-separated contender names")
    parser.add_argument(
        "--log-level",
        type=_levels,
        default=["WARNING"],
        help="Triad's and Probot's (INFO, Triad's default: a log line a delivery); after the"
        " first, each level comma-separated runs them again at it (`triad-sqlite:info`), in"
        " the same rounds",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        help="a git ref whose Triad runs too, as more contenders (`triad-sqlite@REF`, ...)",
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="triad-bench-"))
        tree = stack.enter_context(checkout(args.baseline)) if args.baseline else None
        scratch = Path(folder)
        why_not = probot_ready(scratch / "npm.log")
        if why_not:
            print(f"Probot left out: {why_not}")
        if args.postgres and (why := postgres_unreachable(args.postgres)):
            print(f"PostgreSQL left out: {why}")
            args.postgres = ""
        first, *others = args.log_level
        found = contenders(scratch, args.postgres or None, probot=why_not is None, log_level=first)
        found += [
            again
            for level in others
            for contender in found
            if (again := at_log_level(contender, level)) is not None
        ]
        if args.only:
            found = _only(found, args.only.split(","))
        if tree is not None:
            found += [
                at_revision(contender, args.baseline, tree)
                for contender in found
                if contender.name.startswith("triad-")
            ]
        samples = {contender.name: Samples() for contender in found}
        sequence = 0
        try:
            for number in range(args.rounds):
                order = found[number % len(found) :] + found[: number % len(found)]
                print(f"round {number + 1}/{args.rounds}", flush=True)
                sequence = one_round(order, args, samples, sequence, scratch)
        finally:
            if args.postgres:
                admin_url = args.postgres
                drop_postgres(admin_url, f"triad_bench_{os.getpid()}")
        print()
        print(f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(tables(found, samples, args))


if __name__ == "__main__":
    main()
