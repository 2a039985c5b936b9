"""The model layer: one structured call for every role, over Anthropic, OpenAI and compatibles.

`build_models(settings, store)` gives the runtime an `LLMRoles` (the roles' `RoleModels`);
`ModelCaller` is the provider-neutral call beneath it. See `bot.llm.roles` for keys and the
fake model server, and `bot.llm.config` for the operator's models file (TRIAD_MODELS_FILE).
"""

from bot.llm.caller import Answer, Estimate, Ledger, ModelCaller, Outcome
from bot.llm.choice import DEFAULT_CHOICES, ROLES, ModelChoice, resolve_choice
from bot.llm.config import ModelsConfig, load_models_file
from bot.llm.errors import BudgetExceeded, InvalidModelChoice, ModelUnavailable, OutputInvalid
from bot.llm.prices import DEFAULT_PRICES, Price, PriceTable
from bot.llm.redaction import Redactor
from bot.llm.retry import RetryPolicy
from bot.llm.roles import LLMRoles, build_models
from bot.llm.usage import Usage

__all__ = [
    "DEFAULT_CHOICES",
    "DEFAULT_PRICES",
    "ROLES",
    "Answer",
    "BudgetExceeded",
    "Estimate",
    "InvalidModelChoice",
    "LLMRoles",
    "Ledger",
    "ModelCaller",
    "ModelChoice",
    "ModelsConfig",
    "ModelUnavailable",
    "Outcome",
    "OutputInvalid",
    "Price",
    "PriceTable",
    "Redactor",
    "RetryPolicy",
    "Usage",
    "build_models",
    "load_models_file",
    "resolve_choice",
]
