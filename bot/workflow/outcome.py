"""What the engine answers: the next workflow state and the actions to carry out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.workflow.actions import Action
from bot.workflow.model import Workflow


@dataclass(frozen=True)
class Decision:
    """The engine's answer; `workflow` is None when no workflow exists or starts."""

    workflow: Workflow | None
    actions: tuple[Action, ...] = ()
    reason: str = ""

    def changed(self, before: Workflow | None) -> bool:
        return self.workflow != before
