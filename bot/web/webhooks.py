"""The webhook endpoint: verify the raw bytes, read what Triad needs, store durably, answer.

It does no other work: a delivery is in the store (with its job, when Triad acts on it) before
the 202. A redelivery of the same X-GitHub-Delivery finds it there and queues nothing; the same
body under a new delivery id (a replay of a captured delivery) is recorded as a duplicate and
queues nothing either. Reading an unverified body is bounded by the door (`bot.web.door`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

from starlette.types import Receive, Scope, Send

from bot.digests import sha256_hex
from bot.github.signature import is_valid_signature
from bot.routing import ROUTER, Admitted, DoorFacts, Ignored, Router
from bot.routing.facts import recheck_with_store, store_question
from bot.routing.reading import NotJson, Reading, read_delivery
from bot.routing.redoor import delivery_job
from bot.routing.router import unrouted
from bot.settings import MAX_WEBHOOK_BYTES
from bot.store import Delivery, DeliveryOutcome, NewJob
from bot.store.repo_configs import StoreFacts
from bot.web.context import AppContext
from bot.web.door import Refused

log = logging.getLogger(__name__)

#: where GitHub sends deliveries
WEBHOOK_PATH = "/api/github/webhooks"
_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class WebhookEndpoint:
    """The webhook path as a plain ASGI app, served ahead of FastAPI's routing, dependency and
    middleware layers (`bot.web.app`): on the hot path of every delivery they cost more than
    the endpoint's own work."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.label = EventLabels()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _send(send, 405, {"detail": "Method Not Allowed"}, [(b"allow", b"POST")])
            return
        status, answer, headers = await self.answer(_headers(scope), receive)
        await _send(send, status, answer, headers)

    async def answer(
        self, sent: dict[bytes, str], receive: Receive
    ) -> tuple[int, dict[str, Any], list[Header]]:
        """Verify, read, store durably: the answer (status, JSON, headers) to send; `sent`
        holds the request's headers the endpoint reads."""
        context = self.context
        event = sent.get(b"x-github-event", "")
        try:
            declared = sent.get(b"content-length")
            body = await context.door.read_body(receive, declared, MAX_WEBHOOK_BYTES)
            try:
                signed = is_valid_signature(
                    body, context.webhook_secret, sent.get(b"x-hub-signature-256")
                )
            finally:
                context.door.release(len(body))
            if not signed:
                raise Refused(401, "X-Hub-Signature-256 is missing or does not match the secret")
            delivery_id = sent.get(b"x-github-delivery", "")
            for name, value in (("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery_id)):
                if not _HEADER_VALUE.match(value):
                    raise Refused(400, f"{name} header is missing or malformed")
            reading = _read(event, body)
        except Refused as refused:
            outcome = _REFUSALS.get(refused.status, "rejected")
            context.metrics.delivered.inc(self.label(event, signed=False), outcome)
            log.warning(
                "webhook rejected", extra={"status": refused.status, "reason": refused.message}
            )
            headers = [(k.lower().encode(), v.encode()) for k, v in refused.headers.items()]
            return refused.status, {"message": refused.message}, headers
        door = _Door(event, delivery_id, reading, body, context.own_login)
        label = self.label(event)
        try:
            admitted = await context.store.admit(door)
        except TimeoutError:
            # nothing acknowledged: GitHub may redeliver, and a redelivery is never acted twice
            context.metrics.delivered.inc(label, "store_busy")
            log.warning("delivery not stored in time", extra={"delivery": delivery_id})
            retry = [(b"retry-after", b"5")]
            return 503, {"message": "the store did not answer in time: retry later"}, retry
        except Exception:
            # never acknowledged: GitHub shows the delivery failed and it can be redelivered
            context.metrics.delivered.inc(label, "store_failed")
            log.exception("delivery not stored", extra={"delivery": delivery_id, "event": event})
            return 500, {"message": "the delivery could not be stored"}, []
        if not admitted.new:
            context.metrics.delivered.inc(label, "duplicate")
            log.info(
                "duplicate delivery",
                extra={"delivery": delivery_id, "event": event, "replay_of": admitted.replay_of},
            )
            answer: dict[str, Any] = {"status": "duplicate", "delivery": delivery_id}
            if admitted.replay_of:
                answer["replay_of"] = admitted.replay_of
            return 200, answer, []

        delivery, ignored = admitted.delivery, door.ignored
        assert delivery is not None  # an admitted delivery is the one stored
        context.metrics.delivered.inc(label, delivery.outcome.value)
        if ignored is not None:
            context.metrics.dropped.inc(label, ignored.code)
        log.info(
            "delivery stored" if not admitted.readmitted else "dropped delivery readmitted",
            extra={
                "delivery": delivery_id,
                "event": event,
                "action": delivery.action,
                "repository": delivery.repository,
                "outcome": delivery.outcome.value,
            },
        )
        if delivery.outcome is DeliveryOutcome.PING:
            return 200, {"status": "pong", "delivery": delivery_id}, []
        answer = {"status": delivery.outcome.value, "delivery": delivery_id}
        if delivery.reason:
            answer["reason"] = delivery.reason
        return 202, answer, []


Header = tuple[bytes, bytes]
#: made once: `json.dumps` with options builds an encoder for every call
_ANSWER_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


async def _send(send: Send, status: int, answer: dict[str, Any], headers: list[Header]) -> None:
    body = _ANSWER_JSON.encode(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: the metric outcome of each refusal
_REFUSALS = {401: "unauthorized", 408: "too_slow", 503: "busy"}


class _Door:
    """Ping, drop at the door, keep unread, or queue: decided by the routing table from the
    delivery as read and, for a delivery that passes it and whose route asks, what the store
    knows of its repository (never a GitHub request), read inside the admitting transaction
    under the repository's lock, so deliveries admitted together or by another web process
    are seen (`bot.store.admission`). A signed payload the route's model cannot read is kept
    (outcome `unreadable`, with the reason) so an operator can inspect it, never refused."""

    def __init__(
        self,
        event: str,
        delivery_id: str,
        reading: Reading,
        body: bytes,
        own_login: str | None,
    ) -> None:
        self.own_login = own_login
        self.payload_only = _route(event, reading, own_login)
        found, self.ignored, reason = self.payload_only
        self.asks = store_question(found) if isinstance(found, Admitted) else None
        self.delivery = Delivery(
            id=delivery_id,
            event=event,
            action=reading.action,
            installation_id=reading.installation_id,
            repository=reading.repository,
            sender=reading.sender,
            outcome=found if isinstance(found, DeliveryOutcome) else DeliveryOutcome.QUEUED,
            body=body,
            body_hash=sha256_hex(body),
            reason=reason,
        )
        if found is DeliveryOutcome.UNREADABLE:
            log.warning(
                "signed delivery Triad cannot read: kept as unreadable",
                extra={"delivery": delivery_id, "event": event, "reason": reason},
            )

    def decide(self, known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        """Run in the admitting transaction (possibly again, should its batch be retried)."""
        found, self.ignored, _ = self.payload_only
        delivery = self.delivery
        if isinstance(found, Admitted) and known is not None:
            door = recheck_with_store(found, DoorFacts(self.own_login), known)
            outcome, self.ignored, reason = _outcome(door)
            if outcome is not delivery.outcome:
                delivery = replace(delivery, outcome=outcome, reason=reason)
        return delivery, _job(delivery)


def classify_stored(delivery: Delivery) -> tuple[DeliveryOutcome, str | None, NewJob | None]:
    """A stored delivery read again by this Triad's routing table (`triad deliveries replay`)."""
    try:
        reading = read_delivery(ROUTER, delivery.event, delivery.body)
    except NotJson:
        return DeliveryOutcome.UNREADABLE, "the body is not JSON (or was pruned)", None
    found, _, reason = _route(delivery.event, reading, None)
    outcome = DeliveryOutcome.QUEUED if isinstance(found, Admitted) else found
    return outcome, reason, _job(replace(delivery, outcome=outcome))


def _route(
    event: str, reading: Reading, own_login: str | None
) -> tuple[DeliveryOutcome | Admitted, Ignored | None, str | None]:
    """The door from the delivery alone: an outcome, or the admitted delivery (to queue once
    what the store knows does not drop it)."""
    if event == "ping":
        return DeliveryOutcome.PING, None, None
    if reading.route is None:
        return _outcome(unrouted(event, reading.action))
    if reading.parsed is None:
        return DeliveryOutcome.UNREADABLE, None, reading.problem
    door = Router.admit_read(reading.route, reading.parsed, DoorFacts(own_login))
    if isinstance(door, Ignored):
        return _outcome(door)
    return door, None, None


def _outcome(door: Admitted | Ignored) -> tuple[DeliveryOutcome, Ignored | None, str | None]:
    if isinstance(door, Ignored):
        return DeliveryOutcome.IGNORED, door, door.reason
    return DeliveryOutcome.QUEUED, None, None


def _job(delivery: Delivery) -> NewJob | None:
    if delivery.outcome is not DeliveryOutcome.QUEUED:
        return None
    return delivery_job(delivery.id, delivery.repository)


def _read(event: str, body: bytes) -> Reading:
    try:
        return read_delivery(ROUTER, event, body)
    except NotJson as exc:
        raise Refused(400, str(exc)) from None


#: the request headers the endpoint reads
_HEADERS = frozenset(
    (b"content-length", b"x-github-event", b"x-github-delivery", b"x-hub-signature-256")
)


def _headers(scope: Scope) -> dict[bytes, str]:
    """The headers the endpoint reads, by their lower-case names (the first of repeats)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


class EventLabels:
    """A request's event as a metric label. X-GitHub-Event is outside the signature, so a
    stranger's request, or a captured body replayed under made-up names, could otherwise mint
    series without bound. Events the App subscribes to (each has a route) and GitHub's own to
    every App keep their name; another keeps it only on a signed delivery (an event subscribed
    to by hand, such as `star`), for the first `most` such names a process sees; any other
    is "other"."""

    NAMED = frozenset(ROUTER.events()) | {"ping", "installation", "installation_repositories"}

    def __init__(self, most: int = 32) -> None:
        self.most = most
        self._seen: set[str] = set()

    def __call__(self, event: str, *, signed: bool = True) -> str:
        if event in self.NAMED or event in self._seen:
            return event
        if signed and len(self._seen) < self.most:
            self._seen.add(event)
            return event
        return "other"
