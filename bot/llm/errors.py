"""The ways a model call fails, each a `ModelError` the workflow can post as it is."""

from __future__ import annotations

from bot.errors import ConfigError, ModelError


class OutputInvalid(ModelError):
    """The model's answer did not fit the output schema, even after one repair round."""


class ModelUnavailable(ModelError):
    """The provider kept failing (rate limits, overload, errors, timeouts) past every retry."""


class BudgetExceeded(ModelError):
    """The call would take the workflow past its token or dollar budget, so it was not made."""


class InvalidModelChoice(ModelError, ConfigError):
    """A configured model (a default or a `.github/triad.yml` override) is malformed."""
