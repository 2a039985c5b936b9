"""The workers' own cost, measured on real processes: Triad's web process and `triad worker`
processes against the GitHub simulator and the fake model server (each its own process too,
so their CPU is not counted), with the crash run's harness (`triad_lab/crash`) and no chaos.

    .venv/bin/python bench/workers.py                  # all three parts
    .venv/bin/python bench/workers.py --part stages --rounds 5

- `jobs`: N delivery jobs of one kind queued at once for one worker (4 jobs at a time):
  jobs/s and worker CPU per job, for an ignored job (a comment with no command: the job reads
  the delivery and drops it) and a trivial one (copies of one `/triad status` from a
  maintainer: the job reads the comment, its author's permission and the repository's config
  from GitHub, and the store, and finds the command already carried out).
- `stages`: one happy-path workflow at a time (design, approve, CI green, QA passed) with
  instant scripted models and one worker running one job at a time; the worker's CPU per job
  kind (each job logs the process CPU it took) and in between (polls, heartbeat, sweep),
  medians over rounds after a warm-up workflow.
- `scale`: 12 concurrent happy-path workflows with every model answer delayed by `--latency`
  seconds, on 1, 2 and 4 worker processes (one job at a time each, `--concurrency`), each
  warmed up with one workflow per process first, interleaved over rounds; workflows
  per minute, medians, and each ratio to one process from the same run.

PostgreSQL (`scale`, and `--backend postgresql`) needs TRIAD_TEST_DATABASE_URL; each run gets
a scratch database, dropped after. Errors (a workflow not done, a dead job) are counted and
printed, never hidden.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.store import JobState, NewJob, Store, open_store
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage
from triad_lab.crash.people import REPO, People
from triad_lab.crash.processes import Fleet
from triad_lab.simulator import demo_repo
from triad_lab.simulator.client import SimulatorClient

#: a job's kind as reported per stage
STAGE_NAMES = {
    "architect": "architect",
    "developer": "developer",
    "ci-watch": "CI",
    "review": "review",
    "delivery": "deliveries",
    "finish": "finish",
}


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in `workdir`, or a scratch PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'triad-{uuid.uuid4().hex[:6]}.db'}"
        return
    base = os.environ.get("TRIAD_TEST_DATABASE_URL")
    if not base:
        sys.exit("PostgreSQL: set TRIAD_TEST_DATABASE_URL=postgresql://user@host:port/db")
    name = f"triad_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def running(fleet: Fleet, url: str) -> AsyncIterator[tuple[SimulatorClient, Store]]:
    await asyncio.to_thread(fleet.start)
    github = SimulatorClient(fleet.sim_url)
    try:
        async with open_store(url) as store:
            yield github, store
    finally:
        await github.aclose()
        await asyncio.to_thread(fleet.stop)


async def idle(store: Store, timeout: float = 60.0) -> None:
    """Until no job is running or due."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = await store.job_counts()
        if counts[JobState.RUNNING] == 0 and await store.queue_depth() == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the workers did not finish their jobs")


async def done(store: Store, issues: list[int]) -> int:
    workflows = await WorkflowStore(store).find(repository=REPO)
    return sum(1 for w in workflows if w.issue_number in issues and w.stage is Stage.DONE)


async def play(people: People, github: SimulatorClient, store: Store, timeout: float) -> int:
    """People act until every issue's workflow is done (or `timeout`); how many are done."""
    deadline = time.monotonic() + timeout
    finished = 0
    while time.monotonic() < deadline:
        await people.act(await github.state(REPO))
        finished = await done(store, people.issues)
        if finished == len(people.issues):
            break
        await asyncio.sleep(0.2)
    return finished


def job_cpu(log: Path) -> list[tuple[str, float]]:
    """(kind, CPU seconds) of every job a worker's log says ended."""
    ended = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("message") == "job ended" and "cpu" in entry:
                ended.append((entry["kind"], float(entry["cpu"])))
    return ended


def fleet(workdir: Path, url: str, *, log_level: str = "INFO", **options: Any) -> Fleet:
    """The crash run's processes, logging each job's CPU (INFO) unless told otherwise, with
    Triad's default lease (the crash run shortens it, and with it the sweep's period)."""
    return Fleet(workdir, url, log_level=log_level, lease_seconds=60.0, **options)


# -- jobs ---------------------------------------------------------------------------------


@dataclass
class JobsResult:
    kind: str
    jobs: int
    seconds: float
    cpu: float
    failed: int

    def line(self) -> str:
        return (
            f"  {self.kind:8} {self.jobs / self.seconds:7.1f} jobs/s   "
            f"{self.cpu / self.jobs * 1000:6.1f} ms CPU a job   ({self.jobs} jobs, "
            f"{self.failed} failed)"
        )


async def delivery_of(store: Store, sender: str, before: set[str], timeout: float = 10.0) -> str:
    """The id of the comment `sender` made after `before` was taken."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await store.run(
            lambda tx: tx.fetchall(
                "SELECT id FROM deliveries WHERE event = 'issue_comment' AND sender = ?",
                (sender,),
            )
        )
        new = {str(r["id"]) for r in rows} - before
        if new:
            return new.pop()
        await asyncio.sleep(0.05)
    raise TimeoutError("the simulator's delivery did not arrive")


async def delivery_ids(store: Store) -> set[str]:
    rows = await store.run(lambda tx: tx.fetchall("SELECT id FROM deliveries"))
    return {str(r["id"]) for r in rows}


async def queue_copies(store: Store, delivery_id: str, count: int) -> None:
    for n in range(count):
        await store.enqueue(
            NewJob(
                "delivery",
                f"bench:{delivery_id}:{n}:{uuid.uuid4().hex[:6]}",
                {"delivery_id": delivery_id},
            )
        )


async def measure_jobs(
    backend: str,
    workdir: Path,
    count: int,
    profile: Path | None = None,
    kinds: tuple[str, ...] = ("ignored", "trivial"),
) -> list[JobsResult]:
    results = []
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    with database(backend, workdir) as url:
        f = fleet(workdir / "jobs", url, workers=1, concurrency=4, worker_prefix=prefix)
        async with running(f, url) as (github, store):
            issue = await github.open_issue(REPO, demo_repo.OUTSIDER, "bench", "an issue")
            await idle(store)
            samples = {
                "ignored": (demo_repo.OUTSIDER, "Thanks, this would help us too."),
                "trivial": (demo_repo.MAINTAINER, "/triad status"),
            }
            for kind, (actor, body) in samples.items():
                if kind not in kinds:
                    continue
                before = await delivery_ids(store)
                await github.comment(REPO, issue, actor, body)
                delivery = await delivery_of(store, actor, before)
                await idle(store)
                dead_before = len(await store.list_jobs(JobState.DEAD))
                cpu_before = f.worker_cpu()
                started = time.monotonic()
                await queue_copies(store, delivery, count)
                await idle(store, timeout=600)
                seconds = time.monotonic() - started
                cpu = f.worker_cpu() - cpu_before
                failed = len(await store.list_jobs(JobState.DEAD)) - dead_before
                results.append(JobsResult(kind, count, seconds, cpu, failed))
    return results


# -- stages -------------------------------------------------------------------------------


@dataclass
class StagesResult:
    rounds: int
    #: per round: stage -> CPU seconds
    per_round: list[dict[str, float]] = field(default_factory=list)
    #: per round: GitHub requests, and the connections they were sent on
    requests: list[tuple[int, int]] = field(default_factory=list)
    #: GitHub requests of the last workflow, by endpoint
    by_kind: dict[str, int] = field(default_factory=dict)
    not_done: int = 0

    def lines(self) -> list[str]:
        stages = list(dict.fromkeys(k for r in self.per_round for k in r))
        out = [f"  bot CPU per happy-path workflow (median of {len(self.per_round)} workflows):"]
        for stage in stages:
            values = [r.get(stage, 0.0) for r in self.per_round]
            out.append(f"    {stage:28} {statistics.median(values) * 1000:8.1f} ms")
        totals = [sum(r.values()) for r in self.per_round]
        out.append(f"    {'total':28} {statistics.median(totals) * 1000:8.1f} ms")
        requests = statistics.median(r for r, _ in self.requests)
        connections = statistics.median(c for _, c in self.requests)
        out.append(
            f"  GitHub requests a workflow: {requests:g}, on {connections:g} new connections"
        )
        out.append(f"  workflows not done: {self.not_done}")
        return out


async def measure_stages(
    backend: str, workdir: Path, rounds: int, profile: Path | None = None
) -> StagesResult:
    result = StagesResult(rounds)
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    with database(backend, workdir) as url:
        # one job at a time: the process CPU a job logs is its own
        f = fleet(workdir / "stages", url, workers=1, concurrency=1, worker_prefix=prefix)
        async with running(f, url) as (github, store):
            people = People(github)
            log = f.worker_processes[0].log
            for n in range(rounds + 1):  # the first warms up (the model SDKs load)
                await idle(store)
                seen = len(job_cpu(log))
                traffic = await github.health()
                cpu_before = f.worker_cpu()
                issue = await github.open_issue(REPO, demo_repo.OUTSIDER, f"bench {n}", "x")
                one = People(github, [issue], people.done, people.ci_ran)
                finished = await play(one, github, store, timeout=120)
                await idle(store)
                total = f.worker_cpu() - cpu_before
                after = await github.health()
                if finished != 1:
                    result.not_done += 1
                if n == 0:
                    continue
                stages: dict[str, float] = defaultdict(float)
                for kind, cpu in job_cpu(log)[seen:]:
                    stages[STAGE_NAMES.get(kind, kind)] += cpu
                stages["between jobs (polls, sweep)"] = max(0.0, total - sum(stages.values()))
                result.per_round.append(dict(stages))
                result.by_kind = {
                    kind: count - traffic["by_kind"].get(kind, 0)
                    for kind, count in after["by_kind"].items()
                    if count > traffic["by_kind"].get(kind, 0)
                }
                result.requests.append(
                    (
                        after["requests"] - traffic["requests"],
                        after["connections"] - traffic["connections"],
                    )
                )
    return result


# -- scale-out ----------------------------------------------------------------------------


@dataclass
class ScaleResult:
    workflows: int
    latency: float
    concurrency: int
    #: processes -> per round: (seconds to finish every workflow, workflows done, CPU)
    runs: dict[int, list[tuple[float, int, float]]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"  {self.workflows} concurrent workflows, models answer after {self.latency:g} s, "
            f"{self.concurrency} job(s) at a time per worker process, medians of interleaved "
            "rounds, after a warm-up workflow per worker:"
        ]
        base = statistics.median(s for s, _, _ in self.runs[min(self.runs)])
        for processes, runs in sorted(self.runs.items()):
            seconds = statistics.median(s for s, _, _ in runs)
            cpu = statistics.median(c for _, _, c in runs)
            missing = sum(self.workflows - d for _, d, _ in runs)
            out.append(
                f"    {processes} process{'es' if processes > 1 else '  '}: "
                f"{seconds:6.1f} s, {self.workflows / seconds * 60:5.1f} workflows/min, "
                f"{base / seconds:4.2f}x one process, worker CPU "
                f"{cpu / self.workflows * 1000:6.0f} ms a workflow; not done: {missing}  "
                f"[{', '.join(f'{s:.1f}' for s, _, _ in runs)}]"
            )
        return out


async def one_scale_run(
    workdir: Path, processes: int, workflows: int, latency: float, concurrency: int
) -> tuple[float, int, float]:
    """Start the processes, warm each worker up with as many workflows as there are workers
    (a process loads what a job kind needs on its first such job), then time `workflows`."""
    with database("postgresql", workdir) as url:
        f = fleet(
            workdir / f"scale-{processes}-{uuid.uuid4().hex[:4]}",
            url,
            workers=processes,
            concurrency=concurrency,
            model_latency=latency,
            log_level="WARNING",
        )
        async with running(f, url) as (github, store):
            warm = People(github)
            await warm.open_issues(processes)
            await play(warm, github, store, timeout=600)
            await idle(store)
            cpu_before = f.worker_cpu()
            people = People(github)
            started = time.monotonic()
            await people.open_issues(workflows)
            finished = await play(people, github, store, timeout=900)
            seconds = time.monotonic() - started
            return seconds, finished, f.worker_cpu() - cpu_before


async def measure_scale(
    workdir: Path, rounds: int, workflows: int, latency: float, counts: list[int], concurrency: int
) -> ScaleResult:
    result = ScaleResult(workflows, latency, concurrency)
    for n in range(rounds):
        order = counts if n % 2 == 0 else list(reversed(counts))
        for processes in order:
            run = await one_scale_run(workdir, processes, workflows, latency, concurrency)
            result.runs.setdefault(processes, []).append(run)
            print(
                f"    round {n + 1}: {processes} processes {run[0]:.1f} s, {run[1]} done",
                flush=True,
            )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=("jobs", "stages", "scale", "all"), default="all")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--jobs", type=int, default=200, help="jobs of each kind")
    parser.add_argument("--kinds", default="ignored,trivial", help="jobs: which kinds")
    parser.add_argument("--rounds", type=int, default=3, help="stages: workflows; scale: rounds")
    parser.add_argument("--workflows", type=int, default=12)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model answer")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=1, help="scale: jobs per process")
    parser.add_argument("--workdir", type=Path, default=None, help="logs (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="stages: GitHub requests by kind")
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the worker (jobs, stages)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="triad-workers-"))
    errors = 0
    if args.part in ("jobs", "all"):
        print(f"jobs ({args.backend}, one worker process, 4 jobs at a time):", flush=True)
        for r in asyncio.run(
            measure_jobs(
                args.backend, workdir, args.jobs, args.profile, tuple(args.kinds.split(","))
            )
        ):
            print(r.line())
            errors += r.failed
    if args.part in ("stages", "all"):
        print(f"stages ({args.backend}, one worker process, one job at a time):", flush=True)
        stages = asyncio.run(measure_stages(args.backend, workdir, args.rounds, args.profile))
        print("\n".join(stages.lines()))
        if args.verbose:
            for kind, count in sorted(stages.by_kind.items(), key=lambda kv: -kv[1]):
                print(f"    {count:4} {kind}")
        errors += stages.not_done
    if args.part in ("scale", "all"):
        print("scale-out (postgresql, workers as separate processes):", flush=True)
        counts = [int(c) for c in args.processes.split(",")]
        scale = asyncio.run(
            measure_scale(
                workdir, args.rounds, args.workflows, args.latency, counts, args.concurrency
            )
        )
        print("\n".join(scale.lines()))
        errors += sum(args.workflows - d for runs in scale.runs.values() for _, d, _ in runs)
    print(f"errors: {errors}   logs: {workdir}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
