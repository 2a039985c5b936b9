"""The workers' own cost, measured on real processes: Triad's web process and `triad worker`
processes against the GitHub simulator and the fake model server (each its own process too,
so their CPU is not counted: worker CPU is read from `/proc`), with the crash run's harness
(`triad_lab/crash`) and no chaos.

    .venv/bin/python bench/workers.py                  # all four parts
    .venv/bin/python bench/workers.py --part stages --rounds 5
    .venv/bin/python bench/workers.py --part stages --rounds 2 --baseline 5908f9a

- `jobs`: N delivery jobs of one kind queued in one transaction for one running worker (4 jobs
  at a time), timed from the jobs table (first job finished to last: N-1 jobs), waited for until
  every one is done or dead: jobs/s and worker CPU per job, for an ignored job (a comment with
  no command: the job reads the delivery and drops it) and a trivial one (copies of one
  `/triad status` from a maintainer: the job reads the comment and its author's permission
  from GitHub, the repository's config from the store's cache, and finds the command already
  carried out); kinds interleaved over `--rounds`, medians.
- `wake`: 20 ignored delivery jobs a round, one at a time, each queued by the bench's own
  process at a random moment (0.2-1.2 s after the last) while the worker idles: the time from
  queueing to done (median, p90, worst), i.e. how soon a worker in another process hears of it.
- `stages`: one happy-path workflow at a time (design, approve, CI green, QA passed) with
  instant scripted models and one worker running one job at a time; the worker's CPU per
  workflow (`/proc`, over the workflow), split by job kind where the worker logs each job's
  CPU (`cpu` in its "job ended" line), medians over `--rounds` after a warm-up workflow.
- `scale`: concurrent happy-path workflows with every model answer delayed by `--latency`
  seconds, on 1, 2 and 4 worker processes, at each `--concurrency` (jobs at a time per
  process: 1, and Triad's default 4 with enough workflows that the slots do not cap it), each
  warmed up with one workflow per process first, interleaved over rounds; workflows per
  minute, medians, and each ratio to one process from the same run.

`--baseline REF` runs Triad's web and worker processes from a checkout of REF as well (a
detached `git worktree` in a temp dir; the harness, simulator and model server stay this
tree's), both kept up at once with rounds interleaved, and prints before/after medians and
their ratios from the same run.

PostgreSQL (`scale`, and `--backend postgresql`) needs TRIAD_TEST_DATABASE_URL; each run gets
a scratch database, dropped after. Errors are counted and printed, never hidden: a workflow
not done, and every job that was retried or failed (more than one attempt, an error recorded,
or dead).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.store import JobState, NewJob, Store, open_store
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage
from triad_lab.checkout import checkout
from triad_lab.crash.people import REPO, People
from triad_lab.crash.processes import Fleet
from triad_lab.scratch import database
from triad_lab.simulator import demo_repo
from triad_lab.simulator.client import SimulatorClient

ROOT = Path(__file__).resolve().parents[1]
#: a job's kind as reported per stage
STAGE_NAMES = {
    "architect": "architect",
    "developer": "developer",
    "ci-watch": "CI",
    "review": "review",
    "delivery": "deliveries",
    "finish": "finish",
}


@dataclass(frozen=True)
class Tree:
    """Which Triad runs: this checkout (`path` None) or another one."""

    name: str
    path: Path | None = None


AFTER = Tree("after")
T = TypeVar("T")


@contextlib.contextmanager
def baseline(ref: str) -> Iterator[Tree]:
    """REF's Triad, from a detached worktree removed after."""
    with checkout(ref) as path:
        yield Tree(f"before ({ref})", path)


def interleaved(items: list[T], round_: int) -> list[T]:
    """`items` in one order on even rounds and the other on odd ones."""
    return items if round_ % 2 == 0 else list(reversed(items))


def ratio_line(label: str, before: float, after: float, unit: str) -> str:
    """Before and after, and after as a multiple of before (both from this run)."""
    ratio = f"{after / before:5.2f}x" if before else "  n/a"
    return f"    {label:28} {before:8.1f} -> {after:8.1f} {unit}   (after/before {ratio})"


def harness_store(url: str, tree: Tree) -> Store:
    """The store the harness reads through: for another tree's database, one that reads the
    schema that tree's processes made as it is (never migrating it to this tree's: the
    other tree's processes would refuse it); the harness only counts jobs, deliveries and
    done workflows, which both schemas hold alike."""
    store = open_store(url)
    if tree.path is None:
        return store
    base: Any = type(store)

    class AsItIs(base):  # type: ignore[misc]  # the URL's store class, known at run time
        def require_current_schema(self, applied: set[int]) -> None:
            pass

    return AsItIs(url.removeprefix("sqlite:///"))


@contextlib.asynccontextmanager
async def running(
    fleet: Fleet, url: str, tree: Tree
) -> AsyncIterator[tuple[SimulatorClient, Store]]:
    await asyncio.to_thread(fleet.start)
    github = SimulatorClient(fleet.sim_url)
    store = harness_store(url, tree)
    try:
        await store.open(migrate=tree.path is None)
        try:
            yield github, store
        finally:
            await store.close()
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


async def last_job_id(store: Store) -> int:
    row = await store.run(lambda tx: tx.fetchone("SELECT MAX(id) AS n FROM jobs"))
    return int(row["n"] or 0) if row else 0


async def troubled(store: Store, after_id: int) -> int:
    """Jobs queued after `after_id` that were retried or failed: more than one attempt, an
    error recorded, or dead (a retried job that then succeeded counts too)."""
    row = await store.run(
        lambda tx: tx.fetchone(
            "SELECT COUNT(*) AS n FROM jobs WHERE id > ?"
            " AND (attempts > 1 OR last_error IS NOT NULL OR state = ?)",
            (after_id, JobState.DEAD.value),
        )
    )
    return int(row["n"]) if row else 0


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
    """(kind, CPU seconds) of every job a worker's log says ended, where it logs that."""
    ended = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("message") == "job ended" and "cpu" in entry:
                ended.append((entry["kind"], float(entry["cpu"])))
    return ended


def fleet(workdir: Path, url: str, tree: Tree, *, log_level: str = "INFO", **options: Any) -> Fleet:
    """The crash run's processes, Triad's from `tree`, logging each job (INFO) unless told
    otherwise, with Triad's default lease (the crash run shortens it, and with it the
    sweep's period)."""
    return Fleet(
        workdir, url, log_level=log_level, lease_seconds=60.0, triad_tree=tree.path, **options
    )


# -- jobs ---------------------------------------------------------------------------------


@dataclass
class JobsSample:
    jobs: int
    seconds: float
    cpu: float
    troubled: int


@dataclass
class JobsResult:
    #: (tree, kind) -> samples, one a round
    samples: dict[tuple[str, str], list[JobsSample]] = field(default_factory=dict)

    def rates(self, tree: str, kind: str) -> tuple[float, float]:
        """Median jobs/s and median ms of worker CPU a job."""
        runs = self.samples[(tree, kind)]
        per_second = statistics.median((s.jobs - 1) / s.seconds for s in runs)
        cpu_ms = statistics.median(s.cpu / s.jobs * 1000 for s in runs)
        return per_second, cpu_ms

    def errors(self) -> int:
        return sum(s.troubled for runs in self.samples.values() for s in runs)

    def lines(self, trees: list[Tree]) -> list[str]:
        out = []
        kinds = list(dict.fromkeys(kind for _, kind in self.samples))
        for tree in trees:
            for kind in kinds:
                runs = self.samples[(tree.name, kind)]
                per_second, cpu_ms = self.rates(tree.name, kind)
                out.append(
                    f"  {tree.name:20} {kind:8} {per_second:7.1f} jobs/s   {cpu_ms:6.1f} ms CPU"
                    f" a job   ({len(runs)} rounds of {runs[0].jobs} jobs, "
                    f"{sum(s.troubled for s in runs)} retried or failed)"
                )
        if len(trees) == 2:
            before, after = trees
            for kind in kinds:
                b, a = self.rates(before.name, kind), self.rates(after.name, kind)
                out.append(ratio_line(f"{kind}: jobs/s", b[0], a[0], "jobs/s"))
                out.append(ratio_line(f"{kind}: CPU a job", b[1], a[1], "ms"))
        return out


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


async def queue_batch(store: Store, delivery_id: str, count: int) -> str:
    """`count` jobs for the delivery, queued in one transaction; their keys' common prefix."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    jobs = [NewJob("delivery", f"{prefix}{n}", {"delivery_id": delivery_id}) for n in range(count)]
    now = store.clock()
    # the store's own insert, all in one transaction (`enqueue` makes one each)
    await store.run(lambda tx: [store._insert_job(tx, job, now) for job in jobs])
    return prefix


async def batch_finished(
    store: Store, prefix: str, count: int, timeout: float = 600.0
) -> tuple[float, int]:
    """Wait until every job of the batch is done or dead: the seconds from its first job
    finished to its last, and how many were retried or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await store.run(
            lambda tx: tx.fetchone(
                "SELECT COUNT(*) AS n, MIN(finished_at) AS first, MAX(finished_at) AS last,"
                " SUM(CASE WHEN attempts > 1 OR last_error IS NOT NULL OR state = ?"
                " THEN 1 ELSE 0 END) AS troubled"
                " FROM jobs WHERE idempotency_key LIKE ? AND state IN (?, ?)",
                (JobState.DEAD.value, f"{prefix}%", JobState.DONE.value, JobState.DEAD.value),
            )
        )
        if row and int(row["n"]) == count:
            return float(row["last"]) - float(row["first"]), int(row["troubled"] or 0)
        await asyncio.sleep(0.1)
    raise TimeoutError("the batch did not finish")


async def one_worker(
    stack: contextlib.AsyncExitStack,
    backend: str,
    workdir: Path,
    tree: Tree,
    concurrency: int,
    profile: Path | None,
) -> tuple[Fleet, SimulatorClient, Store]:
    """A scratch database and a fleet with one worker process running `concurrency` jobs at a
    time (under cProfile with `profile`), up until `stack` closes."""
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    url = stack.enter_context(database(backend, workdir.parent, prefix="triad_bench"))
    f = fleet(
        Path(f"{workdir}-{uuid.uuid4().hex[:4]}"),
        url,
        tree,
        workers=1,
        concurrency=concurrency,
        worker_prefix=prefix,
    )
    github, store = await stack.enter_async_context(running(f, url, tree))
    return f, github, store


@dataclass
class JobsSetup:
    tree: Tree
    fleet: Fleet
    store: Store
    #: kind -> the delivery its jobs read
    deliveries: dict[str, str]


async def set_up_jobs(
    stack: contextlib.AsyncExitStack,
    backend: str,
    workdir: Path,
    tree: Tree,
    kinds: tuple[str, ...],
    profile: Path | None,
) -> JobsSetup:
    f, github, store = await one_worker(stack, backend, workdir / "jobs", tree, 4, profile)
    issue = await github.open_issue(REPO, demo_repo.OUTSIDER, "bench", "an issue")
    await idle(store)
    samples = {
        "ignored": (demo_repo.OUTSIDER, "Thanks, this would help us too."),
        "trivial": (demo_repo.MAINTAINER, "/triad status"),
    }
    deliveries = {}
    for kind in kinds:
        actor, body = samples[kind]
        before = await delivery_ids(store)
        await github.comment(REPO, issue, actor, body)
        deliveries[kind] = await delivery_of(store, actor, before)
        await idle(store)
    return JobsSetup(tree, f, store, deliveries)


async def measure_jobs(
    backend: str,
    workdir: Path,
    count: int,
    rounds: int,
    trees: list[Tree],
    profile: Path | None = None,
    kinds: tuple[str, ...] = ("ignored", "trivial"),
) -> JobsResult:
    result = JobsResult()
    async with contextlib.AsyncExitStack() as stack:
        setups = [
            await set_up_jobs(stack, backend, workdir, tree, kinds, profile) for tree in trees
        ]
        for n in range(rounds):
            for setup in interleaved(setups, n):
                for kind in interleaved(list(kinds), n):
                    cpu_before = setup.fleet.worker_cpu()
                    prefix = await queue_batch(setup.store, setup.deliveries[kind], count)
                    seconds, retried = await batch_finished(setup.store, prefix, count)
                    await idle(setup.store)
                    cpu = setup.fleet.worker_cpu() - cpu_before
                    sample = JobsSample(count, seconds, cpu, retried)
                    result.samples.setdefault((setup.tree.name, kind), []).append(sample)
                    print(
                        f"    round {n + 1}: {setup.tree.name} {kind}: "
                        f"{(count - 1) / seconds:.1f} jobs/s",
                        flush=True,
                    )
    return result


@dataclass
class WakeResult:
    #: tree -> seconds from each job's queueing to its end, one a job
    latencies: dict[str, list[float]] = field(default_factory=dict)
    troubled: int = 0

    def lines(self, trees: list[Tree]) -> list[str]:
        out = []
        for tree in trees:
            runs = sorted(self.latencies[tree.name])
            p90 = runs[int(0.9 * (len(runs) - 1))]
            out.append(
                f"  {tree.name:20} queued -> done: median {1000 * statistics.median(runs):6.1f}"
                f" ms, p90 {1000 * p90:6.1f} ms, worst {1000 * runs[-1]:6.1f} ms ({len(runs)} jobs)"
            )
        if len(trees) == 2:
            before, after = (statistics.median(self.latencies[t.name]) for t in trees)
            out.append(ratio_line("median queued -> done", 1000 * before, 1000 * after, "ms"))
        return out


async def queued_to_done(store: Store, prefix: str) -> tuple[float, bool]:
    """Seconds from the batch's one job being queued to being done, and whether it was retried
    or failed."""
    key = f"{prefix}0"
    row = await store.run(
        lambda tx: tx.fetchone(
            "SELECT finished_at - created_at AS waited, attempts, last_error FROM jobs"
            " WHERE idempotency_key = ?",
            (key,),
        )
    )
    assert row is not None
    return float(row["waited"]), row["attempts"] > 1 or row["last_error"] is not None


async def measure_wake(
    backend: str, workdir: Path, count: int, rounds: int, trees: list[Tree], seed: int = 14
) -> WakeResult:
    """One ignored delivery job at a time, queued by this process (not the worker's) at a
    random moment while the worker's loops are idle: how long until it is done. Its own run
    takes ~2 ms; the rest is the time until a loop of the worker process takes it."""
    rng = random.Random(seed)
    result = WakeResult()
    async with contextlib.AsyncExitStack() as stack:
        setups = [
            await set_up_jobs(stack, backend, workdir, tree, ("ignored",), None) for tree in trees
        ]
        for n in range(rounds):
            for setup in interleaved(setups, n):
                for _ in range(count):
                    await asyncio.sleep(rng.uniform(0.2, 1.2))
                    prefix = await queue_batch(setup.store, setup.deliveries["ignored"], 1)
                    await batch_finished(setup.store, prefix, 1, timeout=30)
                    waited, troubled = await queued_to_done(setup.store, prefix)
                    result.latencies.setdefault(setup.tree.name, []).append(waited)
                    result.troubled += troubled
                print(f"    round {n + 1}: {setup.tree.name}: {count} jobs", flush=True)
    return result


# -- stages -------------------------------------------------------------------------------


@dataclass
class StagesRun:
    #: worker CPU seconds over the workflow (`/proc`)
    total: float
    #: stage -> CPU seconds, where the worker logs each job's CPU (else empty)
    stages: dict[str, float]
    requests: int
    connections: int
    done: bool
    troubled: int


@dataclass
class StagesResult:
    #: tree -> one run per round
    runs: dict[str, list[StagesRun]] = field(default_factory=dict)
    #: GitHub requests of the last workflow, by endpoint
    by_kind: dict[str, int] = field(default_factory=dict)

    def errors(self) -> int:
        return sum((not r.done) + r.troubled for runs in self.runs.values() for r in runs)

    def total_ms(self, tree: str) -> float:
        return statistics.median(r.total for r in self.runs[tree]) * 1000

    def lines(self, trees: list[Tree]) -> list[str]:
        out = []
        for tree in trees:
            runs = self.runs[tree.name]
            out.append(f"  {tree.name}: bot CPU per happy-path workflow (median of {len(runs)}):")
            logged = [r for r in runs if r.stages]
            if logged:
                for stage in dict.fromkeys(k for r in logged for k in r.stages):
                    value = statistics.median(r.stages.get(stage, 0.0) for r in logged)
                    out.append(f"    {stage:28} {value * 1000:8.1f} ms")
            out.append(f"    {'total (/proc)':28} {self.total_ms(tree.name):8.1f} ms")
            requests = statistics.median(r.requests for r in runs)
            connections = statistics.median(r.connections for r in runs)
            out.append(
                f"    GitHub requests a workflow: {requests:g}, on {connections:g} new connections"
            )
            out.append(
                f"    workflows not done: {sum(not r.done for r in runs)}, jobs retried or "
                f"failed: {sum(r.troubled for r in runs)}"
            )
        if len(trees) == 2:
            before, after = trees
            out.append(
                ratio_line(
                    "total CPU a workflow",
                    self.total_ms(before.name),
                    self.total_ms(after.name),
                    "ms",
                )
            )
        return out


@dataclass
class StagesSetup:
    tree: Tree
    fleet: Fleet
    github: SimulatorClient
    store: Store
    people: People


async def set_up_stages(
    stack: contextlib.AsyncExitStack, backend: str, workdir: Path, tree: Tree, profile: Path | None
) -> StagesSetup:
    # one job at a time: the process CPU a job logs is its own
    f, github, store = await one_worker(stack, backend, workdir / "stages", tree, 1, profile)
    return StagesSetup(tree, f, github, store, People(github))


async def one_workflow(setup: StagesSetup, title: str) -> tuple[StagesRun, dict[str, int]]:
    store, github = setup.store, setup.github
    log = setup.fleet.worker_processes[0].log
    await idle(store)
    first_job = await last_job_id(store)
    seen = len(job_cpu(log))
    traffic = await github.health()
    cpu_before = setup.fleet.worker_cpu()
    issue = await github.open_issue(REPO, demo_repo.OUTSIDER, title, "x")
    one = People(github, [issue], setup.people.done, setup.people.ci_ran)
    finished = await play(one, github, store, timeout=120)
    await idle(store)
    total = setup.fleet.worker_cpu() - cpu_before
    after = await github.health()
    stages: dict[str, float] = defaultdict(float)
    for kind, cpu in job_cpu(log)[seen:]:
        stages[STAGE_NAMES.get(kind, kind)] += cpu
    if stages:
        stages["between jobs (polls, sweep)"] = max(0.0, total - sum(stages.values()))
    by_kind = {
        kind: count - traffic["by_kind"].get(kind, 0)
        for kind, count in after["by_kind"].items()
        if count > traffic["by_kind"].get(kind, 0)
    }
    run = StagesRun(
        total,
        dict(stages),
        after["requests"] - traffic["requests"],
        after["connections"] - traffic["connections"],
        finished == 1,
        await troubled(store, first_job),
    )
    return run, by_kind


async def measure_stages(
    backend: str, workdir: Path, rounds: int, trees: list[Tree], profile: Path | None = None
) -> StagesResult:
    result = StagesResult()
    async with contextlib.AsyncExitStack() as stack:
        setups = [await set_up_stages(stack, backend, workdir, tree, profile) for tree in trees]
        for setup in setups:  # a warm-up workflow each (the model SDKs load)
            await one_workflow(setup, "warm-up")
        for n in range(rounds):
            for setup in interleaved(setups, n):
                run, by_kind = await one_workflow(setup, f"bench {n}")
                result.runs.setdefault(setup.tree.name, []).append(run)
                result.by_kind = by_kind
                print(
                    f"    round {n + 1}: {setup.tree.name} {run.total * 1000:.0f} ms CPU",
                    flush=True,
                )
    return result


# -- scale-out ----------------------------------------------------------------------------


@dataclass
class ScaleRun:
    seconds: float
    done: int
    cpu: float
    troubled: int


@dataclass
class ScaleResult:
    latency: float
    #: (tree, jobs at a time per process) -> workflows
    workflows: dict[tuple[str, int], int] = field(default_factory=dict)
    #: (tree, jobs at a time per process, processes) -> one run per round
    runs: dict[tuple[str, int, int], list[ScaleRun]] = field(default_factory=dict)

    def errors(self) -> int:
        return sum(
            self.workflows[(tree, concurrency)] - r.done + r.troubled
            for (tree, concurrency, _), runs in self.runs.items()
            for r in runs
        )

    def lines(self) -> list[str]:
        out = [
            f"  models answer after {self.latency:g} s; medians of interleaved rounds, after a "
            "warm-up workflow per worker process:"
        ]
        for (tree, concurrency), workflows in self.workflows.items():
            out.append(
                f"  {tree}: {workflows} concurrent workflows, {concurrency} job(s) at a time "
                "per worker process:"
            )
            counts = sorted(p for t, c, p in self.runs if (t, c) == (tree, concurrency))
            base = statistics.median(r.seconds for r in self.runs[(tree, concurrency, counts[0])])
            for processes in counts:
                runs = self.runs[(tree, concurrency, processes)]
                seconds = statistics.median(r.seconds for r in runs)
                cpu = statistics.median(r.cpu for r in runs)
                out.append(
                    f"    {processes} process{'es' if processes > 1 else '  '}: "
                    f"{seconds:6.1f} s, {workflows / seconds * 60:5.1f} workflows/min, "
                    f"{base / seconds:4.2f}x {counts[0]} process(es), worker CPU "
                    f"{cpu / workflows * 1000:6.0f} ms a workflow; not done: "
                    f"{sum(workflows - r.done for r in runs)}, jobs retried or failed: "
                    f"{sum(r.troubled for r in runs)}  "
                    f"[{', '.join(f'{r.seconds:.1f}' for r in runs)}]"
                )
        return out


async def one_scale_run(
    workdir: Path, tree: Tree, processes: int, workflows: int, latency: float, concurrency: int
) -> ScaleRun:
    """Start the processes, warm each worker up with as many workflows as there are workers
    (a process loads what a job kind needs on its first such job), then time `workflows`."""
    with database("postgresql", workdir, prefix="triad_bench") as url:
        f = fleet(
            workdir / f"scale-{processes}-{uuid.uuid4().hex[:4]}",
            url,
            tree,
            workers=processes,
            concurrency=concurrency,
            model_latency=latency,
            log_level="WARNING",
        )
        async with running(f, url, tree) as (github, store):
            warm = People(github)
            await warm.open_issues(processes)
            await play(warm, github, store, timeout=600)
            await idle(store)
            first_job = await last_job_id(store)
            cpu_before = f.worker_cpu()
            people = People(github)
            started = time.monotonic()
            await people.open_issues(workflows)
            finished = await play(people, github, store, timeout=900)
            seconds = time.monotonic() - started
            cpu = f.worker_cpu() - cpu_before
            return ScaleRun(seconds, finished, cpu, await troubled(store, first_job))


async def measure_scale(
    workdir: Path,
    rounds: int,
    workflows: int,
    latency: float,
    counts: list[int],
    concurrencies: list[int],
    trees: list[Tree],
) -> ScaleResult:
    result = ScaleResult(latency)
    for concurrency in concurrencies:
        # enough workflows that the job slots of the most processes do not cap the run
        for tree in trees:
            result.workflows[(tree.name, concurrency)] = max(
                workflows, 2 * concurrency * max(counts)
            )
    for n in range(rounds):
        for tree in interleaved(trees, n):
            for concurrency in interleaved(concurrencies, n):
                for processes in interleaved(counts, n):
                    count = result.workflows[(tree.name, concurrency)]
                    run = await one_scale_run(workdir, tree, processes, count, latency, concurrency)
                    result.runs.setdefault((tree.name, concurrency, processes), []).append(run)
                    print(
                        f"    round {n + 1}: {tree.name}, {processes} processes x {concurrency}:"
                        f" {run.seconds:.1f} s, {run.done}/{count} done",
                        flush=True,
                    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=("jobs", "wake", "stages", "scale", "all"), default="all")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--jobs", type=int, default=200, help="jobs of each kind a round")
    parser.add_argument("--kinds", default="ignored,trivial", help="jobs: which kinds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each part")
    parser.add_argument("--workflows", type=int, default=12, help="scale: at least this many")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model answer")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--concurrency", default="1,4", help="scale: jobs per process")
    parser.add_argument("--baseline", default=None, help="a git ref to compare with")
    parser.add_argument("--workdir", type=Path, default=None, help="logs (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="stages: GitHub requests by kind")
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the worker (jobs, stages)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="triad-workers-"))
    errors = 0
    with contextlib.ExitStack() as stack:
        trees = [stack.enter_context(baseline(args.baseline))] if args.baseline else []
        trees.append(AFTER)
        if args.part in ("jobs", "all"):
            print(f"jobs ({args.backend}, one worker process, 4 jobs at a time):", flush=True)
            jobs = asyncio.run(
                measure_jobs(
                    args.backend,
                    workdir,
                    args.jobs,
                    args.rounds,
                    trees,
                    args.profile,
                    tuple(args.kinds.split(",")),
                )
            )
            print("\n".join(jobs.lines(trees)))
            errors += jobs.errors()
        if args.part in ("wake", "all"):
            print(f"wake-up ({args.backend}, a job queued by another process):", flush=True)
            wake = asyncio.run(measure_wake(args.backend, workdir, 20, args.rounds, trees))
            print("\n".join(wake.lines(trees)))
            errors += wake.troubled
        if args.part in ("stages", "all"):
            print(f"stages ({args.backend}, one worker process, one job at a time):", flush=True)
            stages = asyncio.run(
                measure_stages(args.backend, workdir, args.rounds, trees, args.profile)
            )
            print("\n".join(stages.lines(trees)))
            if args.verbose:
                for kind, count in sorted(stages.by_kind.items(), key=lambda kv: -kv[1]):
                    print(f"    {count:4} {kind}")
            errors += stages.errors()
        if args.part in ("scale", "all"):
            print("scale-out (postgresql, workers as separate processes):", flush=True)
            scale = asyncio.run(
                measure_scale(
                    workdir,
                    args.rounds,
                    args.workflows,
                    args.latency,
                    [int(c) for c in args.processes.split(",")],
                    [int(c) for c in args.concurrency.split(",")],
                    trees,
                )
            )
            print("\n".join(scale.lines()))
            errors += scale.errors()
    print(f"errors: {errors}   logs: {workdir}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
