"""Fitting repository context into a token budget, and finding files by words (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.llm.context import CHARS_PER_TOKEN, ContextPart, estimate_tokens

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_COMMON = frozenset(
    "the and for with that this from have should would could when what which into about "
    "there their them then than also will issue please add make need use using file files "
    "code like more some only other want does not are was were can its it's".split()
)


@dataclass(frozen=True)
class FittedContext:
    parts: list[ContextPart]
    tokens: int
    dropped: list[str]
    truncated: list[str]


def fit_budget(parts: list[ContextPart], budget_tokens: int) -> FittedContext:
    """Keep parts in order while they fit; cut the first that does not, if it may be cut."""
    kept: list[ContextPart] = []
    dropped: list[str] = []
    truncated: list[str] = []
    used = 0
    for part in parts:
        cost = estimate_tokens(part.text)
        if used + cost <= budget_tokens:
            kept.append(part)
            used += cost
            continue
        room = budget_tokens - used
        if part.truncatable and room >= 200:
            text = part.text[: room * CHARS_PER_TOKEN - 40] + "\n[… cut to fit the budget]"
            kept.append(ContextPart(part.label, text, part.truncatable))
            truncated.append(part.label)
            used += estimate_tokens(text)
        else:
            dropped.append(part.label)
    return FittedContext(kept, used, dropped, truncated)


def rank_paths(paths: list[str], text: str, limit: int = 10) -> list[str]:
    """Paths whose names share the most words with `text` (a search over paths, no model)."""
    words = {word.lower() for word in _WORD.findall(text)} - _COMMON
    scored = []
    for path in paths:
        segments = {piece.lower() for piece in re.split(r"[/._\-]", path) if piece}
        score = sum(
            2 if word in segments else 1 for word in words if any(word in seg for seg in segments)
        )
        if score:
            scored.append((-score, len(path), path))
    return [path for _, _, path in sorted(scored)[:limit]]
