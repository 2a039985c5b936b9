"""Prometheus metrics: deliveries, jobs, dead letters, workflows by stage, model spend, tokens
and latency, and GitHub's rate limit.

Series that span processes (jobs, workflows, spend) are read from the store at each scrape, so
every process reports the same totals; the rest are observed by the process that saw them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.store import JobState, Store
from bot.store.queue_admin import QueueAdmin
from bot.store.recovery import Recovery
from bot.store.refusals import RefusalLog
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage

_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900)
_MODEL_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


class _Spend(Collector):
    """Model spend and tokens from the store's usage table, as counters by role and provider."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, int, int]] = []

    def collect(self) -> Iterator[CounterMetricFamily]:
        cost = CounterMetricFamily(
            "triad_model_cost_dollars",
            "Dollars spent on model calls (all processes, from the store), by role and provider.",
            labels=["role", "provider"],
        )
        tokens = CounterMetricFamily(
            "triad_model_tokens",
            "Tokens of model calls (all processes, from the store), by role, provider and "
            "direction.",
            labels=["role", "provider", "direction"],
        )
        for role, provider, dollars, input_tokens, output_tokens in self.rows:
            cost.add_metric([role, provider], dollars)
            tokens.add_metric([role, provider, "input"], input_tokens)
            tokens.add_metric([role, provider, "output"], output_tokens)
        yield cost
        yield tokens


class _Series:
    """A counter labelled by two values, each series looked up once: prometheus_client's
    `labels()` checks the values and takes a lock on every call (5 µs, against 1 for `inc`),
    and every delivery counts once or twice. It holds what the counter holds already: the
    caller keeps the values bounded (`bot.web.webhooks`)."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._found: dict[tuple[str, str], Counter] = {}

    def inc(self, first: str, second: str) -> None:
        series = self._found.get((first, second))
        if series is None:
            series = self._found[first, second] = self._counter.labels(first, second)
        series.inc()


class Metrics:
    """One registry per process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "triad_webhook_deliveries",
            "Webhook deliveries received, by event and what Triad did with them.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.ignored = Counter(
            "triad_webhook_ignored",
            "Deliveries answered 202 and not acted on, by event and reason.",
            ["event", "reason"],
            registry=self.registry,
        )
        #: `deliveries` and `ignored` by (event, outcome) and (event, reason)
        self.delivered = _Series(self.deliveries)
        self.dropped = _Series(self.ignored)
        self.jobs = Gauge(
            "triad_jobs", "Jobs in the store, by state.", ["state"], registry=self.registry
        )
        self.dead_letters = Gauge(
            "triad_dead_letters",
            "Dead jobs waiting for an operator (`triad jobs retry`), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.dead_told = Gauge(
            "triad_dead_letters_reported",
            "Dead jobs by kind and how their death was reported: `workflow` (needs-human and a "
            "comment), `comment` (a delivery's issue was told), `log` (nobody on GitHub to "
            "tell: no issue, or the repository or installation is gone), `no` (not yet).",
            ["kind", "how"],
            registry=self.registry,
        )
        self.undone = Gauge(
            "triad_transitions_undone",
            "Transitions whose actions are not all carried out yet (those no live job holds "
            "are finished by the workers' sweep).",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "triad_queue_depth", "Jobs due now and not yet claimed.", registry=self.registry
        )
        self.workflows = Gauge(
            "triad_workflows",
            "Workflows in the store, by stage.",
            ["stage"],
            registry=self.registry,
        )
        self.job_wait = Histogram(
            "triad_job_wait_seconds",
            "Time from a job being due to a worker claiming it.",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "triad_job_duration_seconds",
            "Time a worker spent running a job, by kind and outcome.",
            ["kind", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_latency = Histogram(
            "triad_model_call_seconds",
            "Time a model took to answer one call (this process), by role, provider and outcome.",
            ["role", "provider", "outcome"],
            buckets=_MODEL_BUCKETS,
            registry=self.registry,
        )
        self.rate_limit_remaining = Gauge(
            "triad_github_rate_limit_remaining",
            "GitHub's x-ratelimit-remaining on the last answer this process had, by installation.",
            ["installation"],
            registry=self.registry,
        )
        self.refusals = Gauge(
            "triad_refusals",
            "Refusals of people without write access (all processes, from the store): said in a"
            " comment (the first per person, issue and day), or only counted.",
            ["outcome"],
            registry=self.registry,
        )
        self._spend = _Spend()
        self.registry.register(self._spend)
        self._dead_kinds: set[str] = set()
        self._told: set[tuple[str, str]] = set()

    def model_call(self, role: str, provider: str, outcome: str, latency_ms: int) -> None:
        """One model call ended (the model layer's observer)."""
        self.model_latency.labels(role=role, provider=provider, outcome=outcome).observe(
            latency_ms / 1000
        )

    def github_rate_limit(self, installation_id: int, remaining: int) -> None:
        """GitHub told how many requests an installation has left (the GitHub client's
        observer)."""
        self.rate_limit_remaining.labels(installation=str(installation_id)).set(remaining)

    async def render(self, store: Store) -> bytes:
        """The Prometheus text exposition, with the store's series refreshed."""
        counts = await store.job_counts()
        for state in JobState:
            self.jobs.labels(state=state.value).set(counts[state])
        self.queue_depth.set(await store.queue_depth())
        dead = await QueueAdmin(store).dead_by_kind()
        for kind in self._dead_kinds | set(dead):
            self.dead_letters.labels(kind=kind).set(dead.get(kind, 0))
        self._dead_kinds |= set(dead)
        told = await Recovery(store).reported()
        for kind, how in self._told | set(told):
            self.dead_told.labels(kind=kind, how=how).set(told.get((kind, how), 0))
        self._told |= set(told)
        self.undone.set(await Recovery(store).undone())
        stages = await WorkflowStore(store).stage_counts()
        for stage in Stage:
            self.workflows.labels(stage=stage.value).set(stages[stage])
        said, counted = await RefusalLog(store).totals()
        self.refusals.labels(outcome="commented").set(said)
        self.refusals.labels(outcome="suppressed").set(counted)
        spend = await UsageStore(store).grouped(("role", "provider"))
        self._spend.rows = [
            (str(role), str(provider), t.cost, t.input_tokens, t.output_tokens)
            for (role, provider), t in spend
        ]
        return generate_latest(self.registry)
