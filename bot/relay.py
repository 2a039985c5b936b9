"""Relay webhooks from a smee.io-compatible channel to Triad's endpoint, for development.

A laptop cannot receive GitHub's webhooks; a channel on smee.io (or any server speaking its
protocol) can. The relay holds the channel's server-sent-events stream open and posts each
event to the local webhook endpoint with its original headers, so the endpoint checks the
signature exactly as for a direct delivery. A dropped stream is reopened with backoff.

A smee event's data is one JSON object: the delivery's headers (lower-cased names), `body`
(the payload, parsed) and `query`. The body is sent again as compact JSON, which is what GitHub
sends, so the signature over it still matches; a `rawBody` string, when the channel offers
one, is sent byte for byte instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

log = logging.getLogger(__name__)

#: headers that describe one HTTP hop, not the delivery: never forwarded
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"}
)
_NOT_HEADERS = frozenset({"body", "query", "rawbody", "timestamp"})


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None


async def parse_events(lines: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events from a stream's lines (the WHATWG format: fields, blank line ends)."""
    event, last_id = "", None
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment: smee's keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value


@dataclass(frozen=True)
class Delivery:
    """One webhook as the channel carried it: what to post, and with which headers."""

    headers: dict[str, str]
    body: bytes


def delivery_from_event(data: str) -> Delivery | None:
    """The delivery in a smee event's data, or None when it carries none (ready, ping)."""
    try:
        message = json.loads(data)
    except ValueError:
        return None
    if not isinstance(message, dict) or "body" not in message:
        return None
    raw = message.get("rawBody")
    if isinstance(raw, str):
        body = raw.encode()
    else:
        body = json.dumps(message["body"], separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        name: str(value)
        for name, value in message.items()
        if name.lower() not in _NOT_HEADERS
        and name.lower() not in _HOP_HEADERS
        and isinstance(value, str | int)
    }
    return Delivery(headers, body)


@dataclass
class WebhookRelay:
    """Reads `source` (the channel's URL) and posts every delivery to `target`."""

    source: str
    target: str
    min_backoff: float = 1.0
    max_backoff: float = 30.0
    #: what each forwarded delivery got: (X-GitHub-Delivery, status)
    forwarded: list[tuple[str, int]] = field(default_factory=list)
    connections: int = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until `stop` is set (or forever), reopening the stream whenever it drops."""
        stop = stop or asyncio.Event()
        backoff = self.min_backoff
        timeout = httpx.Timeout(10.0, read=None)
        async with httpx.AsyncClient(timeout=timeout) as client:
            while not stop.is_set():
                try:
                    received = await self._listen(client, stop)
                except (httpx.HTTPError, OSError) as exc:
                    received = False
                    log.warning(
                        "webhook relay: channel unreachable",
                        extra={"error": type(exc).__name__, "retry_in": backoff},
                    )
                if received:
                    backoff = self.min_backoff
                if stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self, client: httpx.AsyncClient, stop: asyncio.Event) -> bool:
        """Hold the stream open; True when it carried at least one event."""
        received = False
        headers = {"accept": "text/event-stream"}
        async with client.stream("GET", self.source, headers=headers) as response:
            if response.status_code != 200:
                log.warning(
                    "webhook relay: channel answered", extra={"status": response.status_code}
                )
                return False
            self.connections += 1
            log.info("webhook relay: connected", extra={"target": self.target})
            async for event in parse_events(response.aiter_lines()):
                received = True
                if event.event in {"message", ""}:
                    await self._forward(client, event.data)
                if stop.is_set():
                    break
        return received

    async def _forward(self, client: httpx.AsyncClient, data: str) -> None:
        delivery = delivery_from_event(data)
        if delivery is None:
            return
        delivery_id = delivery.headers.get("x-github-delivery", "?")
        try:
            answer = await client.post(self.target, content=delivery.body, headers=delivery.headers)
        except httpx.HTTPError as exc:
            log.warning(
                "webhook relay: Triad unreachable",
                extra={"delivery": delivery_id, "error": type(exc).__name__},
            )
            self.forwarded.append((delivery_id, 0))
            return
        self.forwarded.append((delivery_id, answer.status_code))
        log.info(
            "webhook relayed",
            extra={
                "delivery": delivery_id,
                "event": delivery.headers.get("x-github-event"),
                "status": answer.status_code,
            },
        )
