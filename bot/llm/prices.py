"""What a call costs: dollars per million input and output tokens, per model.

An unknown model on a hosted provider (`anthropic`, `openai`) is charged the dearest price
known for that provider, so a budget is never waved through at $0; only a model on an
operator's own endpoint (`openai-compatible`: Ollama, vLLM) costs nothing unless priced.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


#: List prices at the time of writing; operators override them (`PriceTable(overrides)`, or
#: `prices:` in the models file). A dated id (`claude-sonnet-4-5-20250929`,
#: `gpt-4.1-2025-04-14`) is priced as its undated name; nothing else is matched by prefix.
DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4-6": Price(3.0, 15.0),
    "claude-sonnet-4-5": Price(3.0, 15.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "gpt-5.2": Price(1.75, 14.0),
    "gpt-5.2-pro": Price(21.0, 168.0),
    "gpt-5.1": Price(1.25, 10.0),
    "gpt-5": Price(1.25, 10.0),
    "gpt-5-pro": Price(15.0, 120.0),
    "gpt-5-mini": Price(0.25, 2.0),
    "gpt-5-nano": Price(0.05, 0.4),
    "gpt-4.1": Price(2.0, 8.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1-nano": Price(0.1, 0.4),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "o3": Price(2.0, 8.0),
    "o3-pro": Price(20.0, 80.0),
    "o4-mini": Price(1.1, 4.4),
}

FREE = Price(0.0, 0.0)
HOSTED = ("anthropic", "openai")
_DATED = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def undated(model: str) -> str:
    """`model` without a snapshot date suffix (`-20250514`, `-2025-04-14`)."""
    return _DATED.sub("", model)


def _provider_of(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "openai"


class PriceTable:
    """Looks a model's price up; unknown models are priced by `PriceTable.price`'s rule."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}
        self._warned: set[tuple[str, str]] = set()

    def price(self, model: str, provider: str = "") -> Price:
        """The listed price of `model` (or of its undated name); for an unlisted model, the
        dearest price known for a hosted `provider`, else nothing."""
        for name in (model, undated(model)):
            if name in self._prices:
                return self._prices[name]
        if provider in HOSTED:
            price = self.dearest(provider)
            self._warn(
                model,
                provider,
                f"charged at the dearest known (${price.input:.2f} in, ${price.output:.2f} out"
                " per million tokens); set its price in the models file",
            )
            return price
        self._warn(model, provider, "counted at $0")
        return FREE

    def dearest(self, provider: str) -> Price:
        """The highest input and output prices listed for `provider` (of all, if none)."""
        mine = [p for name, p in self._prices.items() if _provider_of(name) == provider]
        prices = mine or list(self._prices.values()) or [FREE]
        return Price(max(p.input for p in prices), max(p.output for p in prices))

    def cost(self, model: str, input_tokens: int, output_tokens: int, provider: str = "") -> float:
        return self.price(model, provider).cost(input_tokens, output_tokens)

    def _warn(self, model: str, provider: str, how: str) -> None:
        if (model, provider) not in self._warned:
            self._warned.add((model, provider))
            log.warning(
                f"no price for model {model!r}; its calls are {how}",
                extra={"model": model, "provider": provider},
            )
