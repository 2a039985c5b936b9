"""Building the roles' model layer against the fake server, as the runtime would."""

from __future__ import annotations

from bot.llm.retry import RetryPolicy
from bot.llm.roles import LLMRoles, build_models
from bot.settings import Settings
from bot.store import Store
from tests.llm.conftest import RecordingSleep
from triad_lab.simulator.model_server import FakeModelServer


def roles_for(server: FakeModelServer, store: Store | None = None) -> LLMRoles:
    settings = Settings(anthropic_api_key=None, openai_api_key=None)
    return build_models(
        settings,
        store,
        anthropic_base_url=server.anthropic_url,
        openai_base_url=server.openai_url,
        retry=RetryPolicy(attempts=2, sleep=RecordingSleep()),
        environ={},
    )
