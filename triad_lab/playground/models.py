"""The playground's scripted models: they answer whatever issue a person opens.

The architect asks one clarifying question until someone answers with `/triad revise`; the
developer carries out each plan step (the lab's generic scripted edits); reviewer B objects
once, to the first added line of the diff, so the reviewers disagree and a person decides.
"""

from __future__ import annotations

import re
from typing import Any

from triad_lab.simulator.model_server import ModelRequest
from triad_lab.simulator.models_script import (
    DEFAULT_HOOKS,
    ScriptedModels,
    fenced_parts,
    objection,
    reviewer_b_first_round,
)

QUESTION = "Should this change be on by default, or opt-in behind a setting?"
_NEW_FILE = re.compile(r"^\+\+\+ (?:b/)?(.+)$")
_ADDED = re.compile(r"^\s*(\d+) \+")


class PlaygroundModels(ScriptedModels):
    def __init__(self) -> None:
        super().__init__({"DesignProposal": self._design, "ReviewAnswer": self._review})

    def _design(self, request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
        designed = DEFAULT_HOOKS["DesignProposal"](request, data)
        answered = "/triad revise" in request.text
        return designed | {"clarifying_questions": [] if answered else [QUESTION]}

    def _review(self, request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
        approved = DEFAULT_HOOKS["ReviewAnswer"](request, data)
        if not reviewer_b_first_round(request):
            return approved
        parts = fenced_parts(request)
        diff = next((text for label, text in parts.items() if label.startswith("diff")), "")
        spot = first_added_line(diff)
        if spot is None:
            return approved
        return objection(
            approved,
            *spot,
            "This line changes behaviour the design does not describe: what should happen for "
            "existing users?",
            "Implements the plan, but one behaviour is left undecided.",
        )


def first_added_line(diff: str) -> tuple[str, int] | None:
    """(path, new-file line) of the first added line in a reviewer's numbered diff."""
    path = None
    for line in diff.splitlines():
        header = _NEW_FILE.match(line)
        if header:
            path = header.group(1)
            continue
        added = _ADDED.match(line)
        if added and path:
            return path, int(added.group(1))
    return None
