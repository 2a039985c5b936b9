"""The delivery job: read a stored delivery through the routing table and hand what it means
to the workflow engine."""

from __future__ import annotations

import logging

from bot.errors import PermanentJobError
from bot.github.events import Unreadable
from bot.routing import ROUTER, Done, DoorFacts, Ignored
from bot.routing.intake import Intake
from bot.stages.runner import apply_event
from bot.stages.services import Services
from bot.stages.skeleton import read_task
from bot.stages.status import status_report
from bot.store import Job
from bot.store.workflows import Holder
from bot.workflow.jobs import DeliveryTask
from bot.workflow.model import Target

log = logging.getLogger(__name__)


async def handle_delivery(job: Job, services: Services) -> None:
    """Interpret one delivery and apply it to the workflow it concerns."""
    delivery_id = read_task(DeliveryTask, job).delivery_id
    delivery = await services.store.get_delivery(delivery_id)
    if delivery is None:
        raise PermanentJobError(f"delivery {delivery_id} is not in the store")
    try:
        # the door again: a job queued by an older version may be one this table drops
        door = ROUTER.admit(
            delivery.event, delivery.action, delivery.body, DoorFacts(services.bot_login or None)
        )
    except Unreadable as exc:
        raise PermanentJobError(f"delivery {delivery_id} cannot be read: {exc}") from exc
    if isinstance(door, Ignored):
        log.info("delivery ignored", extra={"delivery": delivery_id, "reason": door.reason})
        return
    event = door.parsed
    assert event.installation is not None and event.repository is not None  # admitted
    repo = await services.repo(event.installation.id, event.repository.full_name)
    intake = Intake(delivery_id, repo, services)
    meaning = await door.route.interpret(event, intake)
    if isinstance(meaning, Done):
        log.info("delivery acted on", extra={"delivery": delivery_id, "done": meaning.what})
        return
    if isinstance(meaning, Ignored):
        log.info(
            "delivery ignored",
            extra={"delivery": delivery_id, "event": delivery.event, "reason": meaning.reason},
        )
        return
    loaded = await intake.config()
    target = Target(repo.full_name, event.installation.id, meaning.issue_number)
    await apply_event(
        services.store,
        repo,
        target,
        loaded.config,
        meaning.event,
        source=meaning.source or delivery_id,
        actor=event.sender.login,
        status_report=lambda: status_report(services.store, target),
        config_problems=loaded.problems,
        holder=Holder.of(job),
        delivery_id=delivery_id,
    )
