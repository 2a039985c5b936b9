"""The crash run of issue 18: N concurrent happy-path workflows, Triad's web process and workers
as real OS processes against the GitHub simulator and the fake model server, a random worker
SIGKILLed every 1-3 s for the whole run (plus kills at stage boundaries, duplicated and
redelivered webhooks, writes answered 5xx after they happened); then the killing stops and
every issue must end exactly as without crashes.

    .venv/bin/python bench/crash.py --workflows 12 --backend postgresql

PostgreSQL needs TRIAD_TEST_DATABASE_URL (a server on which a database can be created); the
run uses a fresh database and drops it after. Prints the figures; exits 1 unless every
workflow is done with no duplicate, nothing lost, no undone action and no dead letter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from triad_lab.crash.run import Chaos, CrashRun
from triad_lab.scratch import database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workflows", type=int, default=12)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per worker")
    parser.add_argument("--kill-every", default="1-3", help="seconds, e.g. 1-3; 'none': no kill")
    parser.add_argument("--no-boundaries", action="store_true", help="no stage-boundary kills")
    parser.add_argument("--no-redeliveries", action="store_true")
    parser.add_argument("--no-unclear-writes", action="store_true")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--lease", type=float, default=3.0, help="TRIAD_JOB_LEASE_SECONDS")
    parser.add_argument("--model-latency", type=float, default=0.2)
    parser.add_argument("--max-chaos", type=float, default=300.0, help="seconds of killing")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to finish after")
    parser.add_argument("--workdir", type=Path, default=None, help="logs (default: a temp dir)")
    parser.add_argument("--log-level", default="WARNING", help="Triad's TRIAD_LOG_LEVEL")
    parser.add_argument(
        "--max-attempts", type=int, default=None, help="TRIAD_JOB_MAX_ATTEMPTS (default 5)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kill_every = None
    if args.kill_every != "none":
        low, high = (float(x) for x in args.kill_every.split("-"))
        kill_every = (low, high)
    chaos = Chaos(
        kill_every=kill_every,
        boundaries=not args.no_boundaries,
        redeliveries=not args.no_redeliveries,
        unclear_writes=not args.no_unclear_writes,
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="triad-crash-"))
    with database(args.backend, workdir, prefix="triad_crash") as url:
        run = CrashRun(
            workdir,
            url,
            workflows=args.workflows,
            workers=args.workers,
            concurrency=args.concurrency,
            seed=args.seed,
            chaos=chaos,
            max_chaos_seconds=args.max_chaos,
            settle_seconds=args.settle,
            lease_seconds=args.lease,
            model_latency=args.model_latency,
            log_level=args.log_level,
            max_attempts=args.max_attempts,
        )
        report = asyncio.run(run.play())
    if args.json:
        print(json.dumps({**report.__dict__, "issues": [i.__dict__ for i in report.issues]}))
    else:
        print("\n".join(report.lines()))
        print(f"  logs: {workdir}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
