"""The demo's scripted models: deterministic, meaningful answers for the demo repository.

They answer through the fake model server, so the demo exercises the real SDK clients. The
architect asks one clarifying question until it is answered; the developer's first round has
a bug that CI catches; reviewer B can be told to object, so the reviewers disagree.

What tells reviewer B apart in a request, and its objection, come from `models_script`,
shared with the playground's models.
"""

from __future__ import annotations

from typing import Any

from triad_lab.simulator.model_server import ModelRequest
from triad_lab.simulator.models_script import (
    ScriptedModels,
    fenced_parts,
    objection,
    reviewer_b_first_round,
    walkthrough_of,
)

QUESTION = "Should negative turns raise an error, or spin backwards too?"

DESIGN: dict[str, Any] = {
    "title": "Add a reverse direction to spin()",
    "problem": (
        "spin() only turns forwards. Users want to spin a widget backwards without changing "
        "what spin(n) returns today. Out of scope: speeds and animation."
    ),
    "options": [
        {
            "name": "A reverse flag",
            "summary": "spin(turns, reverse=False); reverse=True negates the result.",
            "pros": ["Existing calls keep working", "Reads clearly at the call site"],
            "cons": ["A boolean parameter grows awkward if more directions come"],
        },
        {
            "name": "A signed direction",
            "summary": "spin(turns, direction=1) where direction is 1 or -1.",
            "pros": ["Room for more directions"],
            "cons": ["Callers can pass 0 or 2", "Less obvious at the call site"],
        },
    ],
    "chosen_option": "A reverse flag",
    "rationale": "Smallest change that keeps spin(n) as it is; a flag is enough for two "
    "directions. Negative turns raise ValueError, as the maintainer answered.",
    "plan": [
        {
            "path": "widgets/core.py",
            "change": "modify",
            "description": "Add reverse=False; validate turns; negate the result when reversed",
        },
        {
            "path": "tests/test_core.py",
            "change": "modify",
            "description": "Test forwards, backwards and negative turns",
        },
        {"path": "README.md", "change": "modify", "description": "Show spin(3, reverse=True)"},
    ],
    "acceptance_criteria": [
        "spin(3) still returns 4",
        "spin(3, reverse=True) returns -4",
        "spin(-1) raises ValueError",
        "pytest passes",
    ],
    "risks": ["Callers passing a second positional argument by mistake now get reverse"],
}

CORE = '''"""Spinning."""


def spin(turns: int, reverse: bool = False) -> int:
    """One more turn than asked for (a historical accident); negated when reversed."""
    if turns < 0:
        raise ValueError("turns must not be negative")
    result = turns + 1
{body}'''
BUGGY = "    return turns - 1 if reverse else result\n"
FIXED = "    return -result if reverse else result\n"
ZERO = (
    "    if reverse and turns == 0:\n        return 0\n    return -result if reverse else result\n"
)
TESTS = """import pytest

from widgets.core import spin


def test_spin_adds_a_turn():
    assert spin(3) == 4


def test_spin_backwards():
    assert spin(3, reverse=True) == -4


def test_negative_turns_are_refused():
    with pytest.raises(ValueError):
        spin(-1)
"""
README_LINE = "spin(3, reverse=True)  # -4\n"
#: the line of widgets/core.py reviewer B objects to (the reverse return)
OBJECTION_LINE = 9


class DemoModels(ScriptedModels):
    def __init__(self, *, reviewer_b_objects: bool = False) -> None:
        super().__init__(
            {
                "DesignProposal": self._design,
                "Implementation": self._implementation,
                "ReviewAnswer": self._review,
            }
        )
        self.reviewer_b_objects = reviewer_b_objects

    def _design(self, request: ModelRequest, _data: dict[str, Any]) -> dict[str, Any]:
        answered = "raise" in request.text.lower() and "/triad revise" in request.text
        return DESIGN | {"clarifying_questions": [] if answered else [QUESTION]}

    def _implementation(self, request: ModelRequest, _data: dict[str, Any]) -> dict[str, Any]:
        parts = fenced_parts(request)
        feedback = next((t for label, t in parts.items() if label.startswith("feedback")), "")
        readme = parts.get("file README.md", "")
        if not feedback:
            body, cause = BUGGY, ""
        elif "zero" in feedback.lower():
            body, cause = ZERO, "Zero turns backwards had no defined result; it now returns 0."
        else:
            body, cause = FIXED, "reverse returned turns - 1 instead of negating turns + 1."
        edits = [
            _whole("widgets/core.py", 1, CORE.format(body=body)),
            _whole("tests/test_core.py", 2, TESTS),
        ]
        if readme and README_LINE not in readme:
            edits.append(_whole("README.md", 3, readme.replace("```\n", README_LINE + "```\n", 1)))
        return {
            "summary": "spin() takes reverse=False; reversed spins are negative, and negative "
            "turns raise ValueError.",
            "commit_message": "Add a reverse direction to spin()"
            if not feedback
            else "Fix the reversed result of spin()",
            "root_cause": cause,
            "design_problem": "",
            "read_first": [],
            "edits": edits,
        }

    def _review(self, request: ModelRequest, _data: dict[str, Any]) -> dict[str, Any]:
        parts = fenced_parts(request)
        criteria = [
            {"criterion": c, "met": True, "note": "Tested in tests/test_core.py."}
            for c in DESIGN["acceptance_criteria"]
        ]
        spec = "design" if any("design" in label for label in parts) else "pull request"
        approved = {
            "verdict": "approve",
            "summary": f"The change implements the {spec} and meets every criterion.",
            "walkthrough": walkthrough_of(parts),
            "findings": [],
            "criteria": criteria,
        }
        if self.reviewer_b_objects and reviewer_b_first_round(request):
            return objection(
                approved,
                "widgets/core.py",
                OBJECTION_LINE,
                f"spin(0, reverse=True) returns -1: the {spec} does not say what zero turns "
                "backwards means.",
                f"Implements the {spec}, but zero turns backwards is undefined.",
            )
        return approved


def _whole(path: str, step: int, content: str) -> dict[str, Any]:
    return {
        "path": path,
        "action": "modify",
        "plan_step": step,
        "reason": "",
        "replacements": [],
        "content": content,
    }
