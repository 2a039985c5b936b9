"""Job kinds and the handlers that run them; a handler gets the job and the process's parts."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import ValidationError

from bot.errors import TriadError
from bot.github.events import parse_event
from bot.store import Job, Store

log = logging.getLogger(__name__)


class PermanentJobError(TriadError):
    """Retrying cannot help (bad payload, missing record): the job is dead-lettered at once."""


@dataclass(frozen=True)
class JobContext:
    store: Store


Handler = Callable[[Job, JobContext], Awaitable[None]]


async def handle_delivery(job: Job, context: JobContext) -> None:
    """Read a stored delivery and hand it to the workflow stages that act on it."""
    delivery_id = job.payload.get("delivery_id")
    delivery = await context.store.get_delivery(str(delivery_id))
    if delivery is None:
        raise PermanentJobError(f"delivery {delivery_id} is not in the store")
    try:
        event = parse_event(delivery.event, json.loads(delivery.body))
    except (ValueError, ValidationError) as exc:
        raise PermanentJobError(f"delivery {delivery_id} cannot be read: {exc}") from exc
    log.info(
        "delivery received; no workflow stage acts on it yet",
        extra={
            "delivery": delivery.id,
            "event": delivery.event,
            "action": event.action,
            "repository": delivery.repository,
        },
    )


def default_handlers() -> dict[str, Handler]:
    return {"delivery": handle_delivery}
