"""Job kinds and the handlers that run them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from bot.store import Job

ContextT = TypeVar("ContextT", contravariant=True)

#: a handler gets the job and the process's shared parts (for stages: bot.stages.services)
#: (a coroutine, not any awaitable: the worker runs it as a task it can cancel)
Handler = Callable[[Job, ContextT], Coroutine[Any, Any, None]]

if TYPE_CHECKING:
    from bot.stages.services import Services


def stage_handlers() -> dict[str, Handler[Services]]:
    """Every job kind Triad runs, by the name the engine queues it under."""
    from bot.stages.architect import handle_architect
    from bot.stages.ci_watch import handle_ci_watch
    from bot.stages.delivery import handle_delivery
    from bot.stages.developer import handle_developer
    from bot.stages.recovery import handle_finish
    from bot.stages.review import handle_review
    from bot.workflow.jobs import JobKind

    return {
        JobKind.DELIVERY: handle_delivery,
        JobKind.ARCHITECT: handle_architect,
        JobKind.DEVELOPER: handle_developer,
        JobKind.REVIEW: handle_review,
        JobKind.CI_WATCH: handle_ci_watch,
        JobKind.FINISH: handle_finish,
    }
