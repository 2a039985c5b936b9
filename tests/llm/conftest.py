"""The fake model server (one per session, reset per test) and a caller wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.llm.caller import ModelCaller
from bot.llm.pool import Endpoints, ProviderPool
from bot.llm.retry import RetryPolicy
from bot.redaction import Redactor
from triad_lab.simulator.model_server import FakeModelServer


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(scope="session")
def session_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def server(session_server: FakeModelServer) -> Iterator[FakeModelServer]:
    session_server.reset()
    session_server.default = None
    yield session_server
    session_server.reset()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def retry(sleep: RecordingSleep) -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0, sleep=sleep, random=lambda: 0.5)


@pytest.fixture
async def pool(server: FakeModelServer) -> AsyncIterator[ProviderPool]:
    endpoints = Endpoints(
        anthropic_api_key="test-anthropic-key-000",
        openai_api_key="test-openai-key-000",
        anthropic_base_url=server.anthropic_url,
        openai_base_url=server.openai_url,
    )
    providers = ProviderPool(endpoints)
    yield providers
    await providers.aclose()


@pytest.fixture
def caller(pool: ProviderPool, retry: RetryPolicy) -> ModelCaller:
    return ModelCaller(pool, retry=retry, redactor=Redactor(pool.secrets()))
