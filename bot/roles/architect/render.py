"""Render a design version as the one design comment, earlier versions collapsed below it."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from bot.github.markers import KEPT, ROOM, unmarked
from bot.numbers import DIGITS, natural
from bot.repo_config import Labels

if TYPE_CHECKING:  # the schema checks its designs' length here: imported by it, not from it
    from bot.roles.architect.schema import DesignProposal

DESIGN_KEY = "design"
WORKING = "⏳ Designing"
#: what the current version may take as shown, its warning included: the rest of `ROOM` is
#: for what to do next (and superseded versions, as many as fit)
MAX_VERSION_CHARS = 60_000
_VERSION_BLOCK = re.compile(
    rf"<!-- triad:version:({DIGITS}) -->\n(.*?)\n<!-- triad:end-version -->", re.S
)


def content_hash(body: str) -> str:
    """What approval compares: the design comment exactly as Triad proposed it."""
    return hashlib.sha256(body.replace("\r\n", "\n").encode()).hexdigest()


def render_version(version: int, design: DesignProposal) -> str:
    lines = [f"## Design v{version}: {design.title}", "", "### Problem", design.problem, ""]
    if design.clarifying_questions:
        lines += ["### Clarifying questions", *_numbered(design.clarifying_questions), ""]
    lines += ["### Options"]
    for option in design.options:
        chosen = " (chosen)" if option.name == design.chosen_option else ""
        lines += [f"**{option.name}**{chosen}: {option.summary}", ""]
        lines += [f"- ➕ {pro}" for pro in option.pros]
        lines += [f"- ➖ {con}" for con in option.cons]
        lines += [""]
    lines += ["### Chosen design and trade-offs", f"**{design.chosen_option}**: {design.rationale}"]
    lines += ["", "### Plan", "| file | change | what |", "|---|---|---|"]
    lines += [f"| `{s.path}` | {s.change} | {_cell(s.description)} |" for s in design.plan]
    lines += ["", "### Acceptance criteria", *[f"- [ ] {c}" for c in design.acceptance_criteria]]
    if design.risks:
        lines += ["", "### Risks", *[f"- {risk}" for risk in design.risks]]
    return "\n".join(lines)


def version_length(design: DesignProposal) -> int:
    """The most `design` takes in its comment: its version as shown, with every path of its
    plan under the warning (a model's `|` and `<!--` take more room shown than written)."""
    paths = [step.path for step in design.plan]
    return len(unmarked(render_version(0, design) + sensitive_warning(paths)))


def sensitive_warning(paths: list[str]) -> str:
    """The warning above the approval: the plan changes files CI or tooling runs."""
    if not paths:
        return ""
    listed = "\n".join(f"> - `{path}`" for path in paths)
    return (
        "\n\n> [!WARNING]\n> **This plan names files that CI or tooling runs.** Approving it "
        "lets the developer change those that are not protected (protected paths are refused "
        "whatever the plan says), and the repository's CI runs the result (often with its "
        "secrets) before anyone reviews the code:\n" + listed
    )


def render_comment(version: int, current: str, earlier: dict[int, str], next_step: str) -> str:
    """The whole comment: the current version, what to do next, then as many earlier versions
    as GitHub keeps beside them, newest first. The current version is never cut (what is
    approved is what the comment shows: `DesignProposal` keeps it short enough); the oldest
    versions are left out instead, saying so. Every text in it is a model's (or holds one's
    words, as the plan's paths in the warning do): `unmarked`."""
    comment = "\n".join([_block(version, unmarked(current)), "", f"> {next_step}"])
    room = ROOM - len(comment)
    for number in sorted(earlier, reverse=True):
        older = "\n".join(
            [
                "",
                "",
                f"<details><summary>Design v{number} (superseded)</summary>",
                "",
                _block(number, unmarked(earlier[number])),
                "",
                "</details>",
            ]
        )
        if len(older) > room:
            return (
                comment + f"\n\n<sub>Design v{number} and earlier: not kept here, as {KEPT}.</sub>"
            )
        comment, room = comment + older, room - len(older)
    return comment


def next_step(labels: Labels, questions: bool) -> str:
    if questions:
        return (
            "The architect has questions: answer them in a comment ending with `/triad revise`"
            f" for a new version, or approve this one as is with `{labels.approved}`."
        )
    return (
        f"Approve this version with the label `{labels.approved}` (write access needed); "
        "ask for changes in a comment with `/triad revise`. Editing this comment voids it."
    )


def render_placeholder(version: int, earlier: dict[int, str]) -> str:
    working = f"{WORKING} v{version}… the architect is reading the issue and the repository."
    return render_comment(version, working, earlier, "Nothing to approve yet.")


def versions_in(body: str) -> dict[int, str]:
    """The versions a design comment holds, by number (to keep them when a new one comes)."""
    found = ((natural(number), text) for number, text in _VERSION_BLOCK.findall(body))
    return {number: text for number, text in found if number is not None}


def _block(version: int, text: str) -> str:
    return f"<!-- triad:version:{version} -->\n{text}\n<!-- triad:end-version -->"


def _numbered(items: list[str]) -> list[str]:
    return [f"{n}. {item}" for n, item in enumerate(items, 1)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
