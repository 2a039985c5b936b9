"""Prometheus metrics: deliveries by event and outcome, jobs by state, job latency, queue depth."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.store import JobState, Store

_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900)


class Metrics:
    """One registry per process; gauges that span processes are read from the store at scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "triad_webhook_deliveries",
            "Webhook deliveries received, by event and what Triad did with them.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "triad_jobs", "Jobs in the store, by state.", ["state"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "triad_queue_depth", "Jobs due now and not yet claimed.", registry=self.registry
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

    async def render(self, store: Store) -> bytes:
        """The Prometheus text exposition, with the store's job gauges refreshed."""
        counts = await store.job_counts()
        for state in JobState:
            self.jobs.labels(state=state.value).set(counts[state])
        self.queue_depth.set(await store.queue_depth())
        return generate_latest(self.registry)
