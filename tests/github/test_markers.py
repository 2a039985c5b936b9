"""Triad's hidden markers: only Triad's own are taken for them, and every body fits GitHub."""

from __future__ import annotations

import pytest

from bot.github.markers import MAX_BODY_CHARS, carries, fitted, marker, unmarked


@pytest.mark.parametrize(
    "posing",
    ["<!-- triad:progress -->", "<!--triad:x-->", "<!--  TRIAD:design -->", "<!--\ttriad:a -->"],
)
def test_words_holding_a_marker_show_it_rather_than_hide_it(posing: str) -> None:
    shown = unmarked(f"fine\n{posing}\nstill fine")
    assert shown == f"fine\n&lt;!--{posing[4:]}\nstill fine"
    assert marker("progress") not in shown


def test_any_html_comment_is_shown_as_it_would_hide_what_follows() -> None:
    """An unclosed `<!--` in a design hid the rest of it, its plan and warning included, up
    to the next `-->` (its version's closing marker), and the maintainer approved that."""
    assert unmarked("A typo.\n\n<!-- editorial note\n## Plan") == (
        "A typo.\n\n&lt;!-- editorial note\n## Plan"
    )
    assert unmarked("`x < y` -->") == "`x < y` -->"


def test_a_comment_is_triads_for_a_key_only_when_the_marker_opens_it() -> None:
    assert carries(f"{marker('design')}\n## Design v1", "design")
    assert not carries(f"quoted:\n{marker('design')}", "design")
    assert not carries(f"{marker('design-x')}\n", "design")


def test_a_body_within_githubs_limit_is_left_as_it_is() -> None:
    body = "x" * MAX_BODY_CHARS
    assert fitted(body) is body


def test_a_long_body_is_cut_keeping_the_markers_that_open_and_close_it() -> None:
    opening, closing = marker("review:a:sha"), marker("review-round:a:sha:1")
    body = "\n".join([opening, "word " * 20_000, closing, marker("review-data:QUJD")])
    cut = fitted(body)
    assert len(cut) <= MAX_BODY_CHARS
    assert cut.startswith(opening + "\nword word")
    assert cut.endswith(f"65,536 characters of a body.*\n{closing}\n{marker('review-data:QUJD')}")
    assert fitted(cut) == cut


def test_a_long_closing_marker_is_kept_and_the_text_cut_instead() -> None:
    """A review's data is its verdict: a retry reads it rather than ask the model again."""
    data = marker("review-data:" + "A" * 50_000)
    body = "\n".join([marker("review:a:sha"), "word " * 5_000, marker("round"), data])
    cut = fitted(body)
    assert len(cut) <= MAX_BODY_CHARS and cut.endswith(f"{marker('round')}\n{data}")
    assert "word " * 2_000 in cut and "word " * 5_000 not in cut


def test_a_closing_marker_too_long_to_keep_with_the_text_is_dropped() -> None:
    data = marker("review-data:" + "A" * 65_000)
    body = "\n".join([marker("review:a:sha"), "word " * 5_000, marker("round"), data])
    cut = fitted(body)
    assert len(cut) <= MAX_BODY_CHARS and data not in cut
    assert cut.endswith(marker("round")) and "word " * 5_000 in cut


def test_a_body_of_one_long_line_is_cut_too() -> None:
    assert len(fitted("x" * (MAX_BODY_CHARS * 2))) <= MAX_BODY_CHARS
