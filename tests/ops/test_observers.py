"""The process's observers reach the metrics: each model call's latency from the model layer,
GitHub's remaining rate limit from the App's client; and the retention loop prunes."""

from __future__ import annotations

import asyncio

from bot.github.client import GitHubApp
from bot.llm.context import ContextPart
from bot.llm.models import build_models
from bot.llm.retry import RetryPolicy
from bot.llm.usage import UsageScope
from bot.metrics import Metrics
from bot.retention import prune_periodically
from bot.roles.architect.schema import FileSelection
from bot.settings import Settings
from bot.store import Delivery, DeliveryOutcome, Store
from bot.store.deliveries import DAY
from tests.conftest import FakeClock
from tests.llm.conftest import RecordingSleep
from tests.simulator.conftest import REPO
from triad_lab.simulator.model_server import FakeModelServer, text
from triad_lab.simulator.server import Simulator

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}


async def test_each_model_call_is_observed_with_its_role_provider_and_outcome(
    server: FakeModelServer,
) -> None:
    metrics = Metrics()
    models = build_models(
        Settings(anthropic_api_key=None, openai_api_key=None),
        None,
        anthropic_base_url=server.anthropic_url,
        openai_base_url=server.openai_url,
        retry=RetryPolicy(attempts=2, sleep=RecordingSleep()),
        environ={},
        observe=metrics.model_call,
    )
    server.script("claude-opus-4-6", [text("not json"), GOOD])
    scope = UsageScope(7, "octo/repo", None, "architect")
    await models.ask("architect", "Pick.", [ContextPart("issue", "x")], FileSelection, scope)
    await models.aclose()
    sample = metrics.registry.get_sample_value
    base = {"role": "architect", "provider": "anthropic"}
    assert sample("triad_model_call_seconds_count", base | {"outcome": "invalid"}) == 1
    assert sample("triad_model_call_seconds_count", base | {"outcome": "repaired"}) == 1


async def test_githubs_remaining_rate_limit_is_observed_per_installation(
    sim: Simulator, installation_id: int
) -> None:
    metrics = Metrics()
    seen: list[tuple[int, int]] = []

    def observe(installation: int, remaining: int) -> None:
        seen.append((installation, remaining))
        metrics.github_rate_limit(installation, remaining)

    app = GitHubApp(
        sim.app_id, sim.private_key_pem, sim.url, write_interval=0, retry_base_delay=0.01,
        on_rate_limit=observe,
    )  # fmt: skip
    sim.rate_limit("GET", rf"^/repos/{REPO}$", reset_in=1)
    owner, name = REPO.split("/")
    await app.installation(installation_id).rest.repos.async_get(owner, name)
    # the refused answer said 0 left; the retried one, served, says what is left now
    assert [installation for installation, _ in seen] == [installation_id] * len(seen)
    assert 0 in [remaining for _, remaining in seen] and 0 < seen[-1][1] < 5000
    remaining = metrics.registry.get_sample_value(
        "triad_github_rate_limit_remaining", {"installation": str(installation_id)}
    )
    assert remaining == seen[-1][1]


async def test_the_retention_loop_prunes_old_bodies(store: Store, clock: FakeClock) -> None:
    await store.record_delivery(
        Delivery("old", "ping", None, None, None, None, DeliveryOutcome.PING, b"{}")
    )
    clock.advance(15 * DAY)
    loop = asyncio.create_task(prune_periodically(store, retention_days=14, every=0.01))
    try:
        for _ in range(200):
            delivery = await store.get_delivery("old")
            if delivery is not None and delivery.body_pruned_at is not None:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
    assert delivery is not None and delivery.body == b"" and delivery.body_pruned_at == clock.now
