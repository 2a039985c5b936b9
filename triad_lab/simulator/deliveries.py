"""Sends the simulator's webhooks as GitHub does: signed, one at a time, in order.

A background thread posts each delivery to the configured URL with `X-GitHub-Event`,
`X-GitHub-Delivery`, `X-GitHub-Hook-*` and `X-Hub-Signature-256`, and keeps what the receiver
answered so tests and the demo can look. A delivery can be sent again with the same id, as
GitHub's "Redeliver" button does.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.github.signature import sign

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    id: str
    event: str
    action: str | None
    body: bytes
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    answers: list[int] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


class WebhookSender:
    """The App's webhook: a queue and one thread posting from it (started by `start`)."""

    def __init__(
        self,
        url: str | None,
        secret: str,
        hook_id: int = 1,
        timeout: float = 10.0,
        *,
        app_id: int = 1,
    ) -> None:
        self.url = url
        self.secret = secret
        self.hook_id = hook_id
        self.app_id = app_id
        self.timeout = timeout
        self.sent: list[Delivery] = []
        self.dropped: list[Delivery] = []
        self._queue: queue.Queue[Delivery | _Marker | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        #: guards `sent`, `dropped` and the fault counters (scripting and the API both send)
        self._lock = threading.Lock()
        self._drop_next = 0
        self._duplicate_next = 0

    def start(self) -> None:
        self._client = httpx.Client(timeout=self.timeout)
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout + 5)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- faults ----------------------------------------------------------------------------

    def drop(self, count: int) -> None:
        """Lose the next `count` deliveries (kept in `dropped` for a redelivery)."""
        with self._lock:
            self._drop_next += count

    def duplicate(self, count: int) -> None:
        """Send the next `count` deliveries twice, with the same delivery id."""
        with self._lock:
            self._duplicate_next += count

    # -- sending ---------------------------------------------------------------------------

    def send(self, event: str, payload: dict[str, Any]) -> Delivery:
        if "action" in payload:  # GitHub writes a delivery's action first
            payload = {"action": payload["action"]} | payload
        delivery = Delivery(
            str(uuid.uuid4()), event, payload.get("action"), json.dumps(payload).encode()
        )
        with self._lock:
            self.sent.append(delivery)
            if self._drop_next > 0:
                self._drop_next -= 1
                self.dropped.append(delivery)
                return delivery
            self._queue.put(delivery)
            if self._duplicate_next > 0:
                self._duplicate_next -= 1
                self._queue.put(delivery)
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a delivery again, with the same id (GitHub keeps it on redelivery)."""
        with self._lock:
            delivery = next(d for d in self.sent if d.id == delivery_id)
        self._queue.put(delivery)
        return delivery

    def snapshot(self, *, dropped: bool = False) -> list[Delivery]:
        """A copy of the deliveries sent so far (or of those dropped)."""
        with self._lock:
            return list(self.dropped if dropped else self.sent)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued delivery has been answered (or has failed)."""
        done = threading.Event()
        self._queue.put(_Marker(done))
        if not done.wait(timeout):
            raise TimeoutError("webhook deliveries still pending")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, _Marker):
                item.done.set()
                continue
            self._post(item)

    def _post(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        if not self.url or self._client is None:
            delivery.error = "no webhook URL configured"
            return
        headers = {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/simulator",
            "x-github-event": delivery.event,
            "x-github-delivery": delivery.id,
            "x-github-hook-id": str(self.hook_id),
            "x-github-hook-installation-target-type": "integration",
            "x-github-hook-installation-target-id": str(self.app_id),
            "x-hub-signature-256": sign(delivery.body, self.secret),
        }
        try:
            response = self._client.post(self.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "simulator: delivery failed",
                extra={"delivery": delivery.id, "error": delivery.error},
            )
            return
        delivery.status = response.status_code
        delivery.answers.append(response.status_code)
        delivery.error = None if response.status_code < 300 else response.text[:500]


@dataclass
class _Marker:
    done: threading.Event
