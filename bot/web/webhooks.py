"""The webhook endpoint: verify the raw bytes, read what Triad needs, store durably, answer.

It does no other work: a delivery is in the store (with its job, when Triad acts on it) before
the 202, and a redelivery of the same X-GitHub-Delivery finds it there and queues nothing.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from bot.github.signature import is_valid_signature
from bot.routing import ROUTER, DoorFacts, Ignored
from bot.settings import MAX_WEBHOOK_BYTES
from bot.store import Delivery, DeliveryOutcome, NewJob
from bot.web.context import AppContext, Context
from bot.workflow.jobs import DeliveryTask

log = logging.getLogger(__name__)
router = APIRouter()

_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@router.post("/api/github/webhooks", summary="Receive a GitHub webhook delivery")
async def receive_webhook(request: Request, context: Context) -> JSONResponse:
    event = request.headers.get("x-github-event", "")
    try:
        body = await _read_limited(request, MAX_WEBHOOK_BYTES)
        if not is_valid_signature(
            body, context.webhook_secret, request.headers.get("x-hub-signature-256")
        ):
            raise _Rejected(401, "X-Hub-Signature-256 is missing or does not match the secret")
        delivery_id = request.headers.get("x-github-delivery", "")
        for name, value in (("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery_id)):
            if not _HEADER_VALUE.match(value):
                raise _Rejected(400, f"{name} header is missing or malformed")
        payload = _json_object(body)
        delivery, job, ignored = await _classify(event, delivery_id, payload, body, context)
    except _Rejected as rejected:
        outcome = "unauthorized" if rejected.status == 401 else "rejected"
        context.metrics.deliveries.labels(event=_metric_event(event), outcome=outcome).inc()
        log.warning(
            "webhook rejected", extra={"status": rejected.status, "reason": rejected.message}
        )
        return JSONResponse({"message": rejected.message}, status_code=rejected.status)

    stored = await context.store.record_delivery(delivery, job)
    if not stored:
        context.metrics.deliveries.labels(event=event, outcome="duplicate").inc()
        log.info("duplicate delivery", extra={"delivery": delivery_id, "event": event})
        return JSONResponse({"status": "duplicate", "delivery": delivery_id}, status_code=200)

    context.metrics.deliveries.labels(event=event, outcome=delivery.outcome.value).inc()
    if ignored is not None:
        context.metrics.ignored.labels(event=event, reason=ignored.code).inc()
    log.info(
        "delivery stored",
        extra={
            "delivery": delivery_id,
            "event": event,
            "action": delivery.action,
            "repository": delivery.repository,
            "outcome": delivery.outcome.value,
        },
    )
    if job is not None:
        context.job_queued()
    if delivery.outcome is DeliveryOutcome.PING:
        return JSONResponse({"status": "pong", "delivery": delivery_id}, status_code=200)
    answer: dict[str, Any] = {"status": delivery.outcome.value, "delivery": delivery_id}
    if ignored:
        answer["reason"] = ignored.reason
    return JSONResponse(answer, status_code=202)


async def _classify(
    event: str, delivery_id: str, payload: dict[str, Any], body: bytes, context: AppContext
) -> tuple[Delivery, NewJob | None, Ignored | None]:
    """Ping, drop at the door, or queue: decided by the routing table from the payload alone."""
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    outcome, ignored = DeliveryOutcome.QUEUED, None
    if event == "ping":
        outcome = DeliveryOutcome.PING
    else:
        try:
            door = ROUTER.admit(event, action, payload, DoorFacts(context.own_login))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise _Rejected(400, f"{event}.{action} payload: {where}: {error['msg']}") from None
        if isinstance(door, Ignored):
            outcome, ignored = DeliveryOutcome.IGNORED, door

    delivery = Delivery(
        id=delivery_id,
        event=event,
        action=action,
        installation_id=_installation_id(payload),
        repository=_repository_name(payload),
        sender=_sender_login(payload),
        outcome=outcome,
        body=body,
    )
    job = None
    if outcome is DeliveryOutcome.QUEUED:
        task = DeliveryTask(delivery_id=delivery_id)
        job = NewJob(
            kind=task.kind,
            idempotency_key=f"delivery:{delivery_id}",
            payload=task.model_dump(mode="json"),
        )
    return delivery, job, ignored


async def _read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Rejected(413, f"payload exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Rejected(413, f"payload exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise _Rejected(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _Rejected(400, "body is not a JSON object")
    return payload


def _repository_name(payload: dict[str, Any]) -> str | None:
    repository = payload.get("repository")
    name = repository.get("full_name") if isinstance(repository, dict) else None
    return name if isinstance(name, str) else None


def _installation_id(payload: dict[str, Any]) -> int | None:
    installation = payload.get("installation")
    found = installation.get("id") if isinstance(installation, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _sender_login(payload: dict[str, Any]) -> str | None:
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    return login if isinstance(login, str) else None


def _metric_event(event: str) -> str:
    """Unverified requests must not mint unbounded metric label values."""
    return event if _HEADER_VALUE.match(event) and len(event) <= 40 else "invalid"
