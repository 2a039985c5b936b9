"""Fitting context into a token budget, and the path search."""

from __future__ import annotations

from bot.llm.context import ContextPart, estimate_tokens
from bot.roles.context_budget import fit_budget, rank_paths


def test_parts_are_kept_in_order_until_the_budget_is_spent() -> None:
    parts = [ContextPart("issue", "a" * 400), ContextPart("readme", "b" * 4000)]
    fitted = fit_budget([*parts, ContextPart("big", "c" * 40_000, truncatable=False)], 1_500)
    assert [p.label for p in fitted.parts] == ["issue", "readme"]
    assert fitted.dropped == ["big"] and fitted.truncated == []
    assert fitted.tokens == estimate_tokens("a" * 400) + estimate_tokens("b" * 4000)


def test_a_part_that_does_not_fit_is_cut_and_says_so() -> None:
    fitted = fit_budget([ContextPart("file x.py", "x" * 40_000)], 1_000)
    assert fitted.truncated == ["file x.py"]
    assert fitted.parts[0].text.endswith("[… cut to fit the budget]")
    assert fitted.tokens <= 1_000


def test_paths_are_ranked_by_words_shared_with_the_issue() -> None:
    paths = ["src/search/index.py", "README.md", "src/app.py", "tests/test_search.py"]
    assert rank_paths(paths, "Search should use the index") == [
        "src/search/index.py",
        "tests/test_search.py",
    ]
    assert rank_paths(paths, "the and for") == []
