"""Job kinds and the handlers that run them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.errors import PermanentJobError
from bot.store import Job

__all__ = ["Handler", "PermanentJobError", "stage_handlers"]

#: a handler gets the job and the process's shared parts (bot.stages.services.Services)
Handler = Callable[[Job, Any], Awaitable[None]]


def stage_handlers() -> dict[str, Handler]:
    """Every job kind Triad runs, by the name the engine queues it under."""
    from bot.stages.architect import handle_architect
    from bot.stages.ci_watch import handle_ci_watch
    from bot.stages.developer import handle_developer
    from bot.stages.intake import handle_delivery
    from bot.stages.review import handle_review
    from bot.workflow.jobs import ARCHITECT_JOB, CI_WATCH_JOB, DEVELOPER_JOB, REVIEW_JOB

    return {
        "delivery": handle_delivery,
        ARCHITECT_JOB: handle_architect,
        DEVELOPER_JOB: handle_developer,
        REVIEW_JOB: handle_review,
        CI_WATCH_JOB: handle_ci_watch,
    }
