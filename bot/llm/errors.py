"""The ways a model call fails, each a `ModelError` the workflow can post as it is.

Stages post `str(exc)` into public GitHub comments, so every message that leaves the model
layer goes through `publishable`: secrets redacted, echoed values and the whole text bounded.
"""

from __future__ import annotations

from bot.errors import ConfigError, ModelError, Outage
from bot.redaction import Redactor

#: the most of one value echoed from a model's output or a provider's error
ECHO_LIMIT = 200
#: the most of a whole error message
MESSAGE_LIMIT = 1500

_PATTERNS_ONLY = Redactor()


class OutputInvalid(ModelError):
    """The model's answer did not fit the output schema, even after one repair round."""


class ModelUnavailable(ModelError, Outage):
    """The provider kept failing (rate limits, overload, errors, timeouts) past every retry."""


class BudgetExceeded(ModelError):
    """The call would take the workflow past its token or dollar budget, so it was not made."""


class InvalidModelChoice(ModelError, ConfigError):
    """A configured model (a default or a `.github/triad.yml` override) is malformed."""


def clip(text: str, limit: int = ECHO_LIMIT, redactor: Redactor = _PATTERNS_ONLY) -> str:
    """`text` redacted, then cut to `limit` characters (redacting first: a cut secret would
    no longer match)."""
    text = redactor.text(str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def publishable(message: str, redactor: Redactor) -> str:
    """A whole error message fit for a public comment."""
    return clip(message, MESSAGE_LIMIT, redactor)


def sanitise(error: ModelError, redactor: Redactor) -> ModelError:
    """The same error, its message made `publishable` (in place, so its type and cause stay)."""
    error.args = (publishable(str(error), redactor),)
    return error
