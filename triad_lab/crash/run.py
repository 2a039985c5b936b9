"""One crash run: N happy-path workflows at once, Triad's workers killed at random (seeded) and
at stage boundaries, webhooks duplicated and redelivered, writes answered 5xx after they
happened; then the killing stops, and each issue must end as it would have without crashes.

    report = asyncio.run(CrashRun(Path("/tmp/crash"), "sqlite:////tmp/crash/triad.db").play())
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.store import JobState, Store, open_store
from bot.store.recovery import Recovery
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage
from triad_lab.crash.people import REPO, People
from triad_lab.crash.processes import Fleet
from triad_lab.crash.verdict import IssueVerdict, judge_issue, judge_store
from triad_lab.simulator.client import SimulatorClient

log = logging.getLogger(__name__)

#: where a worker is killed on purpose: just before or just after each kind of GitHub write
#: (a comment, a label inside a transition's claim, the commit and the ref between commit and
#: PR, the PR, a review between the two reviews, a comment update)
BOUNDARIES = (
    ("POST", r"/issues/\d+/comments$", "before"),
    ("POST", r"/issues/\d+/comments$", "after"),
    ("POST", r"/issues/\d+/labels$", "after"),
    ("DELETE", r"/issues/\d+/labels/", "before"),
    ("POST", r"/git/commits$", "after"),
    ("POST", r"/git/refs$", "after"),
    ("POST", r"/pulls$", "before"),
    ("POST", r"/pulls$", "after"),
    ("POST", r"/pulls/\d+/reviews$", "after"),
    ("PATCH", r"/issues/comments/\d+$", "after"),
)
#: writes GitHub carries out and answers 5xx (Triad must look before writing again)
UNCLEAR_WRITES = (
    ("POST", r"/issues/\d+/comments$"),
    ("POST", r"/git/refs$"),
    ("POST", r"/pulls$"),
    ("POST", r"/pulls/\d+/reviews$"),
)


@dataclass
class Chaos:
    """What is done to the run while it plays (None or False: not done)."""

    #: a random worker is SIGKILLed every uniform(a, b) seconds, and started again
    kill_every: tuple[float, float] | None = (1.0, 3.0)
    #: random kills stop after this many seconds of chaos (None: they last as long as it).
    #: A worker needs a few seconds to load the model SDKs before it claims a model job; on a
    #: loaded machine, kills every 1-3 s leave no model job running, so no boundary after the
    #: first model call (a design comment, a commit, a PR, a review) could ever fire
    kill_for: float | None = None
    #: every worker is killed whenever a request of one of BOUNDARIES is held, one at a time
    boundaries: bool = True
    #: past deliveries are sent again, and some are sent twice from the start
    redeliveries: bool = True
    #: writes answered 5xx after they happened, now and then
    unclear_writes: bool = True


@dataclass
class Report:
    workflows: int
    seed: int
    backend: str
    max_attempts: int | None = None
    kills: int = 0
    boundary_kills: int = 0
    redelivered: int = 0
    #: how often each boundary's hold and each write-then-5xx fault actually fired (the
    #: simulator counts the requests that took a fault): injected is not happened
    boundaries_fired: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(map(_name, BOUNDARIES), 0)
    )
    unclear_fired: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(map(_name, UNCLEAR_WRITES), 0)
    )
    unclear_injected: int = 0
    worker_starts: int = 0
    worker_cpu_seconds: float = 0.0
    #: CPU seconds of the simulator, the model server and the web process
    other_cpu: dict[str, float] = field(default_factory=dict)
    chaos_seconds: float = 0.0
    settle_seconds: float = 0.0
    done_when_killing_stopped: int = 0
    issues: list[IssueVerdict] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)
    #: stage jobs that ran out of attempts, each told to its workflow (a human was asked,
    #: unless the workflow had moved past it)
    dead_reported: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for issue in self.issues if issue.done)

    @property
    def unclear_writes(self) -> int:
        """Writes GitHub carried out and answered 5xx: the faults that fired."""
        return sum(self.unclear_fired.values())

    @property
    def never_fired(self) -> list[str]:
        """Boundaries and unclear writes that never happened in the run."""
        fired = self.boundaries_fired | self.unclear_fired
        return [name for name, times in fired.items() if times == 0]

    @property
    def duplicates(self) -> int:
        return sum(issue.duplicates for issue in self.issues)

    @property
    def lost(self) -> int:
        return self.workflows - self.done

    @property
    def ok(self) -> bool:
        return not self.store_problems and all(not issue.problems for issue in self.issues)

    def lines(self) -> list[str]:
        out = [
            f"{self.backend}, {self.max_attempts or 'default'} attempts a job: "
            f"{self.done}/{self.workflows} workflows done "
            f"({self.done_when_killing_stopped} when the killing stopped), "
            f"{self.duplicates} duplicates, {self.lost} lost",
            f"  {self.kills} random kills, {self.boundary_kills} kills at stage boundaries "
            f"({sum(1 for n in self.boundaries_fired.values() if n)}/"
            f"{len(self.boundaries_fired)} boundaries), {self.redelivered} redeliveries, "
            f"{self.unclear_writes} writes answered 5xx after they happened "
            f"({sum(1 for n in self.unclear_fired.values() if n)}/{len(self.unclear_fired)}"
            f" kinds; {self.unclear_injected} injected)",
            f"  chaos {self.chaos_seconds:.0f} s, then done within {self.settle_seconds:.1f} s; "
            f"{self.worker_starts} worker starts, {self.worker_cpu_seconds:.1f} s worker CPU "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in self.other_cpu.items())})",
        ]
        out += [f"  never fired: {name}" for name in self.never_fired]
        out += [f"  reported dead letter: {d}" for d in self.dead_reported]
        out += [f"  #{i.number}: {p}" for i in self.issues for p in i.problems]
        out += [f"  store: {p}" for p in self.store_problems]
        return out


class CrashRun:
    def __init__(  # noqa: PLR0913 - a crash run's knobs, each named
        self,
        workdir: Path,
        database_url: str,
        *,
        workflows: int = 12,
        workers: int = 3,
        concurrency: int = 2,
        seed: int = 18,
        chaos: Chaos | None = None,
        max_chaos_seconds: float = 240.0,
        until_fired: bool = True,
        settle_seconds: float = 120.0,
        lease_seconds: float = 3.0,
        model_latency: float = 0.2,
        log_level: str = "WARNING",
        max_attempts: int | None = None,
    ) -> None:
        """`max_attempts`: TRIAD_JOB_MAX_ATTEMPTS (None: Triad's default); a crash counts as an
        attempt, so under heavy killing a stage job may run out of them and ask a human.
        `until_fired`: the chaos goes on (up to `max_chaos_seconds`, opening one more issue
        whenever all are done) until every boundary and unclear write has fired once."""
        settings = {"TRIAD_JOB_MAX_ATTEMPTS": str(max_attempts)} if max_attempts else {}
        self.fleet = Fleet(
            workdir,
            database_url,
            workers=workers,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            model_latency=model_latency,
            log_level=log_level,
            settings=settings,
        )
        self.database_url = database_url
        self.workflows = workflows
        self.chaos = chaos or Chaos()
        self.rng = random.Random(seed)
        self.max_chaos_seconds = max_chaos_seconds
        self.until_fired = until_fired
        self.settle_seconds = settle_seconds
        backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
        self.report = Report(workflows, seed, backend, max_attempts)
        self._chaos_on = True

    async def play(self) -> Report:
        """Start everything, play the workflows under chaos, stop it, settle, judge."""
        await asyncio.to_thread(self.fleet.start)
        github = SimulatorClient(self.fleet.sim_url)
        try:
            async with open_store(self.database_url) as store:
                await self._play(github, store)
        finally:
            await github.aclose()
            await asyncio.to_thread(self.fleet.stop)
        return self.report

    async def _play(self, github: SimulatorClient, store: Store) -> None:
        people = People(github)
        if self.chaos.redeliveries:
            await github.duplicate_deliveries(self.workflows)
        await people.open_issues(self.workflows)
        started = time.monotonic()
        chaos = [
            asyncio.create_task(self._kill_at_random()),
            asyncio.create_task(self._kill_at_boundaries(github)),
            asyncio.create_task(self._redeliver(github)),
            asyncio.create_task(self._unclear_writes(github)),
        ]
        try:
            await self._chaos_phase(people, github, store)
        finally:
            self._chaos_on = False
            for task in chaos:
                task.cancel()
            await asyncio.gather(*chaos, return_exceptions=True)
        self.report.chaos_seconds = time.monotonic() - started
        self.report.done_when_killing_stopped = await _done(store, people.issues)
        await github.clear_faults()
        await github.release()
        self.fleet.restart_dead_workers()
        settling = time.monotonic()
        await self._until_done(people, github, store, self.settle_seconds)
        await self._until_quiet(store)
        self.report.settle_seconds = time.monotonic() - settling
        self.report.worker_starts = self.fleet.worker_starts
        self.report.worker_cpu_seconds = self.fleet.worker_cpu()
        self.report.other_cpu = self.fleet.cpu()
        await self._judge(people, github, store)

    async def _chaos_phase(self, people: People, github: SimulatorClient, store: Store) -> None:
        """Until every workflow is done (and, `until_fired`, every chaos boundary fired once),
        at most `max_chaos_seconds`; more work is opened while a boundary is still to fire."""
        deadline = time.monotonic() + self.max_chaos_seconds
        while time.monotonic() < deadline:
            await self._until_done(people, github, store, deadline - time.monotonic())
            if not self.until_fired or not self._still_to_fire():
                return
            if await _done(store, people.issues) == len(people.issues):
                await people.open_issues(1)  # traffic for the boundaries still to fire
                self.report.workflows = len(people.issues)

    def _still_to_fire(self) -> list[str]:
        wanted = []
        if self.chaos.boundaries:
            wanted += [n for n, times in self.report.boundaries_fired.items() if not times]
        if self.chaos.unclear_writes:
            wanted += [n for n, times in self.report.unclear_fired.items() if not times]
        return wanted

    async def _until_done(
        self, people: People, github: SimulatorClient, store: Store, seconds: float
    ) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await people.act(await github.state(REPO))
            if await _done(store, people.issues) == len(people.issues):
                return
            if self._chaos_on and self.until_fired and not self._still_to_fire():
                return  # every boundary fired: the killing may stop
            await asyncio.sleep(0.5)

    async def _until_quiet(self, store: Store, seconds: float = 30.0) -> None:
        """Until nothing is left to do: no undone actions, no job running or due soon."""
        deadline = time.monotonic() + seconds
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            counts = await store.job_counts()
            busy = counts[JobState.RUNNING] + await _due_soon(store) + await _undone(store)
            quiet = quiet + 1 if busy == 0 else 0
            await asyncio.sleep(0.5)

    async def _judge(self, people: People, github: SimulatorClient, store: Store) -> None:
        state = await github.state(REPO)
        workflows = WorkflowStore(store)
        for number in people.issues:
            workflow = await workflows.get(REPO, number)
            self.report.issues.append(judge_issue(number, state, workflow))
        dead = await store.list_jobs(JobState.DEAD)
        reported = {
            job.id
            for job in dead
            if job.finished_at is not None and (await _reported_at(store, job.id)) is not None
        }
        self.report.store_problems = judge_store(await _undone(store), dead, reported)
        self.report.dead_reported = [
            f"{job.kind} job {job.id}: {job.last_error}" for job in dead if job.id in reported
        ]
        health = await github.health()
        self.report.store_problems += [f"simulator: {e}" for e in health["errors"]]
        self.report.store_problems += [f"simulator lacks {e}" for e in health["unimplemented"]]

    # -- chaos -----------------------------------------------------------------------------

    async def _kill_at_random(self) -> None:
        if self.chaos.kill_every is None:
            return
        low, high = self.chaos.kill_every
        until = time.monotonic() + (self.chaos.kill_for or float("inf"))
        while self._chaos_on:
            await asyncio.sleep(self.rng.uniform(low, high))
            if time.monotonic() > until:
                return
            victim = self.rng.randrange(self.fleet.workers)
            self.fleet.kill_worker(victim)
            self.fleet.start_worker(victim)
            self.report.kills += 1

    async def _kill_at_boundaries(self, github: SimulatorClient) -> None:
        """Hold requests at the boundaries; when one is held, kill every worker (the one making
        it among them), let it go, and start them again. Every boundary not yet fired is armed
        at once (so each fires early in the run); once all have, one at a time, at random."""
        if not self.chaos.boundaries:
            return
        armed: dict[int, str] = {}
        while self._chaos_on:
            unfired = [b for b in BOUNDARIES if not self.report.boundaries_fired[_name(b)]]
            wanted = unfired or [self.rng.choice(BOUNDARIES)]
            for method, path, when in wanted:
                if (method, path, when) not in [_boundary(n) for n in armed.values()]:
                    fault = await github.fault(method=method, path=path, hold=when)
                    armed[fault] = _name((method, path, when))
            while self._chaos_on and not await github.held():
                await asyncio.sleep(0.1)
            if not self._chaos_on:
                break
            await asyncio.sleep(0.3)  # other boundaries held meanwhile die in the same kill
            for index in range(self.fleet.workers):
                self.fleet.kill_worker(index)
            await github.release()
            self.fleet.restart_dead_workers()
            self.report.boundary_kills += 1
            used = await github.faults()
            for fault, name in list(armed.items()):
                if used.get(fault):
                    self.report.boundaries_fired[name] += 1
                    del armed[fault]
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))
        for fault in armed:  # only these: a pending write-then-5xx fault stays
            await github.remove_fault(fault)

    async def _redeliver(self, github: SimulatorClient) -> None:
        if not self.chaos.redeliveries:
            return
        while self._chaos_on:
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            sent = await github.deliveries()
            if sent:
                await github.redeliver(self.rng.choice(sent)["id"])
                self.report.redelivered += 1

    async def _unclear_writes(self, github: SimulatorClient) -> None:
        """Keep one write-then-5xx fault armed for each kind of write; every 2-5 s, count the
        ones that fired and arm them again."""
        if not self.chaos.unclear_writes:
            return
        armed: dict[int, str] = {}
        try:
            while self._chaos_on:
                for method, path in UNCLEAR_WRITES:
                    if _name((method, path)) not in armed.values():
                        fault = await github.fault(method=method, path=path, status=502, after=True)
                        armed[fault] = _name((method, path))
                        self.report.unclear_injected += 1
                await asyncio.sleep(self.rng.uniform(2.0, 5.0))
                used = await github.faults()
                for fault, name in list(armed.items()):
                    if used.get(fault):
                        self.report.unclear_fired[name] += 1
                        del armed[fault]
        finally:
            if armed:  # what fired since the last look counts too
                used = await github.faults()
                for fault, name in armed.items():
                    self.report.unclear_fired[name] += 1 if used.get(fault) else 0


def _name(point: tuple[str, ...]) -> str:
    """A boundary or an unclear write as the report names it, e.g. `POST /pulls$ after`."""
    return " ".join(point)


def _boundary(name: str) -> tuple[str, str, str]:
    method, path, when = name.split(" ")
    return method, path, when


async def _done(store: Store, issues: list[int]) -> int:
    workflows = await WorkflowStore(store).find(repository=REPO)
    return sum(1 for w in workflows if w.issue_number in issues and w.stage is Stage.DONE)


async def _undone(store: Store) -> int:
    return await Recovery(store).undone()


async def _due_soon(store: Store, horizon: float = 60.0) -> int:
    limit = time.time() + horizon
    return sum(1 for job in await store.list_jobs(JobState.QUEUED) if job.run_at <= limit)


async def _reported_at(store: Store, job_id: int) -> Any:
    row = await store.run(
        lambda tx: tx.fetchone(
            "SELECT reported_at FROM jobs WHERE id = ? AND reported_at >= finished_at", (job_id,)
        )
    )
    return row["reported_at"] if row else None
