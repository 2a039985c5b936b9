"""Building the model layer against the fake server, as the runtime would."""

from __future__ import annotations

from bot.llm.models import Models, build_models
from bot.llm.retry import RetryPolicy
from bot.settings import Settings
from bot.store import Store
from tests.llm.conftest import RecordingSleep
from triad_lab.simulator.model_server import FakeModelServer


def models_for(server: FakeModelServer, store: Store | None = None) -> Models:
    settings = Settings(anthropic_api_key=None, openai_api_key=None)
    return build_models(
        settings,
        store,
        anthropic_base_url=server.anthropic_url,
        openai_base_url=server.openai_url,
        retry=RetryPolicy(attempts=2, sleep=RecordingSleep()),
        environ={},
    )
