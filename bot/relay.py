"""Relay webhooks from a smee.io-compatible channel to Triad's endpoint, for development.

A laptop cannot receive GitHub's webhooks; a channel on smee.io (or any server speaking its
protocol) can. The relay holds the channel's server-sent-events stream open and posts each
event to the local webhook endpoint with its original headers, so the endpoint checks the
signature exactly as for a direct delivery. A dropped stream is reopened with backoff.

A smee event's data is one JSON object: the delivery's headers (lower-cased names), `body`
(the payload, parsed) and `query`. A `rawBody` string, when the channel offers one, is sent
byte for byte. Otherwise the body is serialised again as compact JSON, which is how GitHub
sends it, so the signature usually still matches; but nothing guarantees that the channel kept
every byte (key order, number spelling, escapes), and a delivery re-serialised differently is
refused by the endpoint (401). The relay says so in its log when that happens.

Anyone who knows the channel's URL can post to it, so an event may be anything: each one is
handled on its own (a bad one is logged with its delivery id and skipped), events are capped
in size, and the relay never ends while the server runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from bot.settings import MAX_WEBHOOK_BYTES

log = logging.getLogger(__name__)

#: headers that describe one HTTP hop, not the delivery: never forwarded
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive"}
)
_NOT_HEADERS = frozenset({"body", "query", "rawbody", "timestamp"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_VISIBLE_ASCII = re.compile(r"^[\x20-\x7e]{0,8192}$")
_EOL = re.compile(r"\r\n|\r|\n")
#: the most recent outcomes a relay keeps of each kind (it runs for as long as its process)
_KEPT = 1000
_DELIVERY_ID = re.compile(r'"x-github-delivery"\s*:\s*"([A-Za-z0-9-]{1,64})"', re.IGNORECASE)
#: the most one event may carry: GitHub's payload cap, plus room for the headers around it
MAX_EVENT_CHARS = MAX_WEBHOOK_BYTES + 1024 * 1024


class UnrelayableEvent(ValueError):
    """A channel event that cannot be posted as a delivery; the message says why."""


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    #: the event carried more than the cap: its data was dropped
    too_large: bool = False


async def capped_lines(chunks: AsyncIterator[str], limit: int) -> AsyncIterator[str]:
    """The stream's lines (CR, LF or CRLF ends one); a line longer than `limit` is cut to
    `limit + 1` characters, so that memory stays bounded and the event is seen as too large.
    Each chunk is searched for a line's end from where the last search stopped: searched from
    the start, a 26 MB line in 4 kB chunks took minutes of the event loop's CPU."""
    buffer, head, searched = "", None, 0
    async for chunk in chunks:
        buffer += chunk
        while (end := _EOL.search(buffer, searched)) is not None:
            if end.group() == "\r" and end.end() == len(buffer):
                searched = end.start()  # maybe the first half of a CRLF: look again
                break
            line, buffer, searched = buffer[: end.start()], buffer[end.end() :], 0
            if head is not None:
                line, head = head, None
            yield line
        else:
            searched = len(buffer)
        if len(buffer) > limit:
            head = head or buffer[: limit + 1]
            buffer, searched = "", 0


async def parse_events(
    lines: AsyncIterator[str], max_chars: int = MAX_EVENT_CHARS
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events from a stream's lines (the WHATWG format: fields, blank line ends)."""
    event, last_id = "", None
    data: list[str] = []
    size, too_large = 0, False
    async for line in lines:
        if line == "":
            if too_large:
                yield ServerSentEvent(event or "message", "", last_id, too_large=True)
            elif data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id)
            event, data, size, too_large = "", [], 0, False
            continue
        if line.startswith(":"):
            continue  # a comment: smee's keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value[:100]
        elif name == "data" and not too_large:
            size += len(value) + 1
            if size > max_chars:
                data, too_large = [], True
            else:
                data.append(value)
        elif name == "id":
            last_id = value[:100]


@dataclass(frozen=True)
class Delivery:
    """One webhook as the channel carried it: what to post, and with which headers."""

    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers.get("x-github-delivery", "?")


def delivery_from_event(data: str) -> Delivery | None:
    """The delivery in a smee event's data, or None when it carries none (ready, ping).

    Raises UnrelayableEvent for data no delivery could come from.
    """
    try:
        message = json.loads(data)
    except RecursionError:
        raise UnrelayableEvent("the event's JSON is nested too deeply") from None
    except ValueError:
        raise UnrelayableEvent("the event's data is not JSON") from None
    if not isinstance(message, dict) or "body" not in message:
        return None
    raw = message.get("rawBody")
    try:
        if isinstance(raw, str):
            body = raw.encode()
        else:
            body = json.dumps(message["body"], separators=(",", ":"), ensure_ascii=False).encode()
    except RecursionError:
        raise UnrelayableEvent("the event's body is nested too deeply") from None
    except UnicodeEncodeError:
        raise UnrelayableEvent("the event's body is not valid Unicode") from None
    headers = {
        name.lower(): str(value)
        for name, value in message.items()
        if name.lower() not in _NOT_HEADERS
        and name.lower() not in _HOP_HEADERS
        and isinstance(value, str | int)
        and not isinstance(value, bool)
        and _TOKEN.match(name)
        and _VISIBLE_ASCII.match(str(value))  # a header GitHub sent is visible ASCII
    }
    return Delivery(headers, body)


def relay_target(host: str, port: int) -> str:
    """This server's webhook endpoint as the relay reaches it: loopback for a wildcard address,
    an IPv6 address in brackets."""
    local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in local:
        local = f"[{local}]"
    return f"http://{local}:{port}/api/github/webhooks"


@dataclass
class WebhookRelay:
    """Reads `source` (the channel's URL) and posts every delivery to `target`."""

    source: str
    target: str
    min_backoff: float = 1.0
    max_backoff: float = 30.0
    #: a connection that lasted this long counts as healthy: the backoff starts afresh
    stable_seconds: float = 60.0
    max_event_chars: int = MAX_EVENT_CHARS
    #: a stream silent this long is taken for dropped and opened again (a channel sends a
    #: keep-alive comment every few seconds; a connection lost without a word stays open)
    silence_seconds: float = 120.0
    #: what each forwarded delivery got: (X-GitHub-Delivery, status; 0: Triad unreachable)
    forwarded: deque[tuple[str, int]] = field(default_factory=lambda: deque(maxlen=_KEPT))
    #: the delivery id (or "?") of every event that could not be relayed
    skipped: deque[str] = field(default_factory=lambda: deque(maxlen=_KEPT))
    #: each wait before reconnecting, in seconds
    waits: deque[float] = field(default_factory=lambda: deque(maxlen=_KEPT))
    connections: int = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until `stop` is set (or forever), reopening the stream whenever it drops.

        The backoff starts afresh only after a delivery was relayed or the connection held for
        `stable_seconds`: a channel that greets (`ready`) and hangs up at once is not hammered.
        """
        stop = stop or asyncio.Event()
        backoff = self.min_backoff
        timeout = httpx.Timeout(10.0, read=self.silence_seconds)
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(timeout=timeout) as client:
            while not stop.is_set():
                opened = loop.time()
                relayed = False
                try:
                    relayed = await self._listen(client, stop)
                except (httpx.HTTPError, OSError) as exc:
                    log.warning(
                        "webhook relay: channel unreachable",
                        extra={"error": type(exc).__name__, "retry_in": backoff},
                    )
                except Exception as exc:  # the relay must outlive anything a channel sends
                    log.warning(
                        "webhook relay: the channel's stream failed",
                        extra={"error": type(exc).__name__, "retry_in": backoff},
                        exc_info=True,
                    )
                if relayed or loop.time() - opened >= self.stable_seconds:
                    backoff = self.min_backoff
                if stop.is_set():
                    break
                wait = backoff * random.uniform(0.8, 1.2)
                self.waits.append(wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self, client: httpx.AsyncClient, stop: asyncio.Event) -> bool:
        """Hold the stream open; True when Triad took at least one delivery from it."""
        relayed = False
        headers = {"accept": "text/event-stream"}
        async with client.stream("GET", self.source, headers=headers) as response:
            if response.status_code != 200:
                log.warning(
                    "webhook relay: channel answered", extra={"status": response.status_code}
                )
                return False
            self.connections += 1
            log.info("webhook relay: connected", extra={"target": self.target})
            lines = capped_lines(response.aiter_text(), self.max_event_chars)
            async for event in parse_events(lines, self.max_event_chars):
                if stop.is_set():
                    break
                if event.event not in {"message", ""}:
                    continue
                relayed = await self._relay_one(client, event) or relayed
        return relayed

    async def _relay_one(self, client: httpx.AsyncClient, event: ServerSentEvent) -> bool:
        """Relay one event; True when Triad accepted it. Nothing an event holds escapes."""
        found = _DELIVERY_ID.search(event.data[:65536])
        delivery_id = found.group(1) if found else "?"
        try:
            if event.too_large:
                raise UnrelayableEvent(f"the event is larger than {self.max_event_chars} chars")
            delivery = delivery_from_event(event.data)
            if delivery is None:
                return False
            delivery_id = delivery.id
            return await self._forward(client, delivery)
        except Exception as exc:
            self.skipped.append(delivery_id)
            log.warning(
                "webhook relay: an event could not be relayed",
                extra={"delivery": delivery_id, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return False

    async def _forward(self, client: httpx.AsyncClient, delivery: Delivery) -> bool:
        answer = await self._post(client, delivery)
        if answer is None:
            self.forwarded.append((delivery.id, 0))
            return False
        self.forwarded.append((delivery.id, answer.status_code))
        log.info(
            "webhook relayed",
            extra={
                "delivery": delivery.id,
                "event": delivery.headers.get("x-github-event"),
                "status": answer.status_code,
            },
        )
        if answer.status_code == 401:
            log.warning(
                "webhook relay: Triad refused the delivery's signature. Either the channel "
                "re-serialised the body differently from what GitHub signed (it offers no "
                "rawBody), or the App's webhook secret is not TRIAD_WEBHOOK_SECRET",
                extra={"delivery": delivery.id},
            )
        return answer.is_success

    async def _post(self, client: httpx.AsyncClient, delivery: Delivery) -> httpx.Response | None:
        """Triad's answer, or None when it stays unreachable (it may be starting up)."""
        error = ""
        for pause in (0.1, 0.3, 1.0, 3.0, 0.0):
            try:
                return await client.post(
                    self.target, content=delivery.body, headers=delivery.headers
                )
            except httpx.TransportError as exc:
                error = type(exc).__name__
            if pause:
                await asyncio.sleep(pause)
        log.warning(
            "webhook relay: Triad unreachable", extra={"delivery": delivery.id, "error": error}
        )
        return None


class RelayTask:
    """The relay as a background task that is never lost: should it end while the server
    runs, that is logged and it is started again (after a growing pause)."""

    def __init__(self, relay: WebhookRelay, stop: asyncio.Event, pause: float = 1.0) -> None:
        self.relay = relay
        self.restarts = 0
        self._stop = stop
        self._pause = pause
        self._cancelled = False
        self._timer: asyncio.TimerHandle | None = None
        self._task = self._start()

    def cancel(self) -> None:
        self._cancelled = True
        if self._timer is not None:
            self._timer.cancel()
        self._task.cancel()

    async def wait(self) -> None:
        """Until the current run ends (for tests and shutdown)."""
        await asyncio.gather(self._task, return_exceptions=True)

    def _start(self) -> asyncio.Task[None]:
        task = asyncio.create_task(self.relay.run(self._stop), name="webhook-relay")
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._cancelled or self._stop.is_set():
            return
        error = task.exception()
        pause = min(self._pause * 2**self.restarts, 30.0)
        self.restarts += 1
        log.error(
            "webhook relay stopped; restarting it",
            extra={"error": repr(error) if error else "it returned", "retry_in": pause},
            exc_info=error,
        )
        self._timer = asyncio.get_running_loop().call_later(pause, self._restart)

    def _restart(self) -> None:
        self._timer = None
        if not (self._cancelled or self._stop.is_set()):
            self._task = self._start()
