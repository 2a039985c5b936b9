"""The operator's models file: roles, endpoints and prices, validated; keys stay where sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

import bot.llm.config
from bot.errors import ConfigError
from bot.llm.choice import DEFAULT_CHOICES, ModelChoice
from bot.llm.config import load_models_file, parse_models_config
from bot.llm.models import build_models
from bot.llm.pool import NO_KEY, Endpoints, ProviderPool
from bot.llm.prices import Price, PriceTable
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import FileSelection
from bot.runtime import build_services
from bot.settings import Settings, load_settings
from bot.store import Store
from triad_lab.simulator.model_server import FakeModelServer

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
HOSTED_KEY = "sk-ant-hosted-key-0123456789abcdef"
SCOPE = UsageScope(1, "o/r", None, "review")


def _documented_example() -> str:
    doc = bot.llm.config.__doc__ or ""
    found = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert found, "the module docstring documents the format with a yaml example"
    return found.group(1)


def test_the_documented_example_is_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "models.yml"
    path.write_text(_documented_example())
    config = load_models_file(path)

    assert config.choices["architect"].fallback == ModelChoice(
        provider="anthropic", model="claude-sonnet-4-6"
    )
    assert config.choices["developer"] == DEFAULT_CHOICES["developer"]  # left out: default
    reviewer = config.choices["reviewer_b"]
    assert (reviewer.provider, reviewer.base_url, reviewer.api_key_env) == (
        "openai-compatible",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
    )
    assert config.endpoints[("openai-compatible", "http://ollama.internal:11434/v1")] is None
    assert config.endpoints[("anthropic", "https://llm-proxy.internal/anthropic")] == (
        "ANTHROPIC_API_KEY"
    )
    assert config.prices == {"meta-llama/llama-3.3-70b-instruct": Price(0.13, 0.40)}
    assert load_models_file(None).choices == DEFAULT_CHOICES


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("roles:\n  tester: {provider: openai, model: m}\n", "roles: Value error, unknown role"),
        ("roles:\n  architect: {provider: gemini, model: m}\n", "roles.architect.provider:"),
        ("roles:\n  architect: {model: m}\n", "roles.architect.provider: Field required"),
        ("endpoints:\n  - {provider: openai, base_url: ftp://x}\n", "endpoints.0.base_url:"),
        (
            "endpoints:\n  - {provider: openai, base_url: 'http://x', api_key_env: lower}\n",
            "endpoints.0.api_key_env:",
        ),
        ("prices:\n  m: {input: -1, output: 2}\n", "prices.m.input:"),
        ("prices:\n  m: {input: 1}\n", "prices.m.output: Field required"),
        ("models: {}\n", "models: Extra inputs are not permitted"),
        ("- a list\n", "must be a mapping"),
        ("roles: [\n", "not valid YAML (line 2"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_the_file_and_key(
    tmp_path: Path, content: str, says: str
) -> None:
    path = tmp_path / "models.yml"
    path.write_text(content)
    with pytest.raises(ConfigError) as failure:
        load_models_file(path)
    message = str(failure.value)
    assert message.startswith(f"{path}: ") and says in message


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TRIAD_MODELS_FILE: cannot read .*absent.yml"):
        load_models_file(tmp_path / "absent.yml")


async def test_the_hosted_key_never_goes_to_another_base_url(server: FakeModelServer) -> None:
    # the hosted API itself is not reachable here; the fake server is "someone else's" URL
    pool = ProviderPool(Endpoints(anthropic_api_key=HOSTED_KEY, openai_api_key="sk-openai-x"))
    elsewhere = ModelChoice(provider="anthropic", model="m", base_url=server.anthropic_url)
    assert pool._where(elsewhere) == (server.anthropic_url, NO_KEY)
    on_openai = ModelChoice(provider="openai", model="m", base_url=server.openai_url)
    assert pool._where(on_openai) == (server.openai_url, NO_KEY)
    allowed = elsewhere.model_copy(update={"api_key_env": "ANTHROPIC_API_KEY"})
    assert pool._where(allowed) == (server.anthropic_url, HOSTED_KEY)
    assert pool._where(ModelChoice(provider="anthropic", model="m")) == (None, HOSTED_KEY)
    await pool.aclose()


async def test_models_file_choices_reach_the_server_with_the_right_keys(
    server: FakeModelServer,
) -> None:
    config = parse_models_config(
        yaml.safe_load(
            f"""
roles:
  reviewer_a: {{provider: anthropic, model: claude-proxy-a, base_url: "{server.anthropic_url}"}}
  reviewer_b: {{provider: openai-compatible, model: local-b, base_url: "{server.openai_url}"}}
endpoints:
  - {{provider: openai-compatible, base_url: "{server.openai_url}", api_key_env: LOCAL_KEY}}
prices:
  local-b: {{input: 1000, output: 1000}}
"""
        )
    )
    settings = Settings(anthropic_api_key=SecretStr(HOSTED_KEY), openai_api_key=None)
    models = build_models(
        settings,
        None,
        choices=config.choices,
        trusted=config.endpoints,
        prices=PriceTable(config.prices),
        environ={"LOCAL_KEY": "local-key-123456"},
    )
    server.script("*", [GOOD, GOOD])
    await models.ask("reviewer_a", "Review.", [], FileSelection, SCOPE)
    answer = await models.ask_with_usage("reviewer_b", "Review.", [], FileSelection, SCOPE)
    await models.aclose()

    to_proxy, to_local = server.requests
    assert to_proxy.model == "claude-proxy-a" and HOSTED_KEY not in str(to_proxy.headers)
    assert NO_KEY in str(to_proxy.headers)
    assert to_local.headers["authorization"] == "Bearer local-key-123456"
    assert answer.usage.cost == pytest.approx(
        (answer.usage.input_tokens + answer.usage.output_tokens) / 1000
    )
    # a repository may pick the listed endpoint, and it keeps the operator's key variable
    pick = {
        "developer": {"provider": "openai-compatible", "model": "x", "base_url": server.openai_url}
    }
    scope = UsageScope(1, "o/r", None, "implement", model_overrides=pick)
    assert models.choice("developer", scope).api_key_env == "LOCAL_KEY"


async def test_a_key_the_models_file_names_is_read_from_env_too(
    tmp_path: Path, server: FakeModelServer
) -> None:
    key = "local-key-from-dotenv-0123456789"
    env = tmp_path / ".env"
    env.write_text(
        f"# beside the App's settings, as an operator writes it\nLOCAL_MODELS_KEY={key}\n"
    )
    config = parse_models_config(
        {
            "roles": {
                "reviewer_b": {
                    "provider": "openai-compatible",
                    "model": "local-b",
                    "base_url": server.openai_url,
                }
            },
            "endpoints": [
                {
                    "provider": "openai-compatible",
                    "base_url": server.openai_url,
                    "api_key_env": "LOCAL_MODELS_KEY",
                }
            ],
        }
    )
    settings = load_settings(_env_file=env, anthropic_api_key=None, openai_api_key=None)
    models = build_models(settings, None, choices=config.choices, trusted=config.endpoints)
    server.script("*", [GOOD])
    await models.ask("reviewer_b", f"Review. The key is {key}.", [], FileSelection, SCOPE)
    await models.aclose()

    (sent,) = server.requests
    assert sent.headers["authorization"] == f"Bearer {key}"
    assert key not in str(sent.body)  # the key is a secret the prompts are scrubbed of


async def test_build_services_uses_the_models_file(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "models.yml"
    path.write_text("roles:\n  architect: {provider: openai, model: gpt-5.2-pro}\n")
    settings = Settings(
        app_id=1,
        private_key=SecretStr(
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            .decode()
        ),
        models_file=path,
        anthropic_api_key=None,
        openai_api_key=None,
    )
    services = build_services(settings, store)
    choice = services.models.choice("architect", UsageScope(1, "o/r", None, "design"))
    await services.models.aclose()
    assert (choice.provider, choice.model) == ("openai", "gpt-5.2-pro")

    path.write_text("roles:\n  architect: {provider: openai}\n")
    with pytest.raises(ConfigError, match=r"models.yml: roles.architect.model: Field required"):
        build_services(settings, store)
