"""The model layer: one structured call for every purpose, over Anthropic, OpenAI and compatibles.

`build_models(settings, store)` gives the runtime a `Models` (calls by purpose, accounted to a
`UsageScope`); `ModelCaller` is the provider-neutral call beneath it. See `bot.llm.models` for
keys and the fake model server, and `bot.llm.config` for the operator's models file
(TRIAD_MODELS_FILE). The layer knows nothing of the roles that use it.
"""

from bot.llm.caller import Answer, Estimate, Ledger, ModelCaller, Outcome
from bot.llm.choice import DEFAULT_CHOICES, ROLES, ModelChoice, resolve_choice
from bot.llm.config import ModelsConfig, load_models_file
from bot.llm.context import ContextPart, estimate_tokens
from bot.llm.errors import BudgetExceeded, InvalidModelChoice, ModelUnavailable, OutputInvalid
from bot.llm.models import Models, build_models
from bot.llm.prices import DEFAULT_PRICES, Price, PriceTable
from bot.llm.retry import RetryPolicy
from bot.llm.usage import Usage, UsageScope
from bot.redaction import Redactor

__all__ = [
    "DEFAULT_CHOICES",
    "DEFAULT_PRICES",
    "ROLES",
    "Answer",
    "BudgetExceeded",
    "ContextPart",
    "Estimate",
    "InvalidModelChoice",
    "Ledger",
    "ModelCaller",
    "ModelChoice",
    "ModelUnavailable",
    "Models",
    "ModelsConfig",
    "Outcome",
    "OutputInvalid",
    "Price",
    "PriceTable",
    "Redactor",
    "RetryPolicy",
    "Usage",
    "UsageScope",
    "build_models",
    "estimate_tokens",
    "load_models_file",
    "resolve_choice",
]
