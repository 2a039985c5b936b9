"""The webhook port's limits: what an unauthenticated client may hold before it is verified.

Nothing is known about a request until its whole body is read and its signature checked, so
the door bounds what reading costs: a deadline for the whole request (GitHub itself gives up
after 10 s), a cap on open connections, and a cap on bytes buffered for bodies not yet
verified. Over a cap the answer is an immediate 503 with `Retry-After`, so a signed delivery
is refused quickly rather than stalled behind slow strangers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from bot.numbers import over

log = logging.getLogger(__name__)

#: seconds a refused client is asked to wait before trying again
RETRY_AFTER = 5


class Refused(Exception):
    """The request is answered with `status` and nothing is stored."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class _ReadDeadlines:
    """When each body being read on the port must have arrived, watched by one timer for all
    of them. `asyncio.timeout` made a timer for each request and cancelled it (4-6 µs a
    delivery), while nearly every body has arrived whole by the time it is read.

    Every read is given the same `seconds`, so deadlines come in the order reads start: the
    oldest read still watched is the next one due, and the timer waits for it alone. A read
    past its deadline has its task cancelled (as `asyncio.timeout` does); `end` tells it so.
    State is kept for one event loop at a time (a server runs one): reads begun on an earlier
    loop are forgotten when a read starts on another (until then, a loop closed without
    cancelling its tasks leaves them here)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        #: each read under way and when it is due, oldest first (an OrderedDict finds its
        #: first entry at once, where a dict walks past every entry deleted before it)
        self._due: OrderedDict[asyncio.Task[Any], float] = OrderedDict()
        #: reads cut by their deadline whose end has not been seen yet
        self._cut: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.Handle | None = None
        #: the loop time the timer was set for (uvloop gives a timer due within a millisecond
        #: as a plain `Handle`, without `when()`)
        self._timer_due = 0.0

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Cancel `task` should its read still be under way `seconds` from now."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._timer is not None:
                self._timer.cancel()
            self._due, self._cut, self._loop, self._timer = OrderedDict(), set(), loop, None
        due = self._due[task] = loop.time() + self.seconds
        if self._timer is None:  # else it is set for an older read, due no later
            self._wake_at(loop, due)

    def end(self, task: asyncio.Task[Any]) -> bool:
        """`task`'s read is over; whether its deadline cancelled it."""
        if self._due.pop(task, None) is not None:
            return False
        if task in self._cut:
            self._cut.remove(task)
            return True
        return False  # begun on an earlier loop

    def _wake_at(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self._timer, self._timer_due = loop.call_at(due, self._sweep, loop), due

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cut every read due by now (or by the time the timer was set for: a loop may run
        it a little early); wake again for the next one."""
        if loop is not self._loop:
            return
        now = max(loop.time(), self._timer_due)
        self._timer = None
        while self._due:
            task, due = next(iter(self._due.items()))
            if due > now:
                self._wake_at(loop, due)
                return
            del self._due[task]
            if not task.done():
                self._cut.add(task)
                task.cancel()


@dataclass
class DoorLimits:
    """The budget shared by every request on the webhook port of one process."""

    #: the whole body must arrive within this many seconds (read once, when made)
    read_seconds: float = 10.0
    #: bytes all not-yet-verified bodies may hold together
    max_unverified_bytes: int = 64 * 1024 * 1024
    #: open connections on the webhook port (enforced by `DoorProtocol`)
    max_connections: int = 128
    _held: int = field(default=0, init=False)
    _deadlines: _ReadDeadlines = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadlines = _ReadDeadlines(self.read_seconds)

    @property
    def held(self) -> int:
        """Bytes held right now by bodies being read or verified."""
        return self._held

    async def read_body(self, receive: Receive, declared: str | None, limit: int) -> bytes:
        """The whole body, held against the budget until `release(len(body))` (once it is
        verified); `declared` is its Content-Length, if any.

        413 past `limit`; 408 when it does not arrive within `read_seconds`; 503 with
        `Retry-After` when the bodies being read would pass `max_unverified_bytes`; 400 when
        the client goes away first. A refused body holds nothing.
        """
        if declared and over(declared, limit):
            raise Refused(413, f"payload exceeds {limit} bytes")
        # bytes count as they arrive, never as declared: a body declared but not sent holds
        # only its connection, until the read deadline closes it
        held = 0
        chunks: list[bytes] = []
        task = asyncio.current_task()
        assert task is not None  # an ASGI app runs in a task
        cancelling = task.cancelling()
        self._deadlines.watch(task)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    # anyone may start an upload and drop it: one line, never an error
                    raise Refused(400, "the client went away before its body arrived")
                chunk: bytes = message.get("body", b"")
                if chunk:
                    if held + len(chunk) > limit:
                        raise Refused(413, f"payload exceeds {limit} bytes")
                    held = self._take(held + len(chunk), held)
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except BaseException as exc:
            self._held -= held
            # as `asyncio.timeout`: a cancel the deadline made is taken back; one from
            # elsewhere as well (the server stopping) goes on
            cut = self._deadlines.end(task) and task.uncancel() <= cancelling
            if cut and isinstance(exc, asyncio.CancelledError):
                raise Refused(
                    408, f"the body did not arrive within {self._deadlines.seconds:g} s"
                ) from None
            raise
        self._deadlines.end(task)  # never cut here: no other callback ran since the last read
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def release(self, size: int) -> None:
        """Give back what a body read by `read_body` held (it is verified or refused)."""
        self._held -= size

    def _take(self, wanted: int, held: int) -> int:
        """Hold `wanted` bytes in all (`held` already held); 503 when the budget is spent."""
        more = wanted - held
        if more <= 0:
            return held
        if self._held + more > self.max_unverified_bytes:
            log.warning(
                "webhook refused: unverified bodies hold too much",
                extra={"held": self._held, "wanted": more, "cap": self.max_unverified_bytes},
            )
            raise Refused(503, "too many unverified bytes in flight", RETRY_AFTER)
        self._held += more
        return wanted


async def _busy(_scope: Any, _receive: Any, send: Any) -> None:
    """The answer on a connection over the cap: 503 at once, the body left unread."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", str(RETRY_AFTER).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"too many open connections\n"})


def _no_delay(transport: asyncio.Transport) -> None:
    """TCP_NODELAY: uvicorn writes a response's head and body separately, and with Nagle on
    the body waits for the client's delayed ACK of the head (~40 ms on Linux). asyncio sets it
    only on sockets opened with proto IPPROTO_TCP, which the listening socket is not."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def door_protocol(limits: DoorLimits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with the door's connection limits (uvicorn's own
    `limit_concurrency` answers 503 without `Retry-After`, and a client that never finishes
    its headers keeps its connection forever)."""

    class DoorProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
        _timer: asyncio.TimerHandle | None = None
        _seen: Any = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            _no_delay(transport)
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                log.warning(
                    "webhook refused: too many open connections",
                    extra={"cap": limits.max_connections},
                )
                self.app = _busy  # its request is answered 503 as soon as its headers are in
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._timer is not None:
                self._timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._seen = self.cycle
            self._timer = self.loop.call_later(limits.read_seconds, self._check)

        def _check(self) -> None:
            """Close a connection that sent no complete request since the last check: a
            request under way is bounded by the body deadline in the endpoint instead."""
            cycle = self.cycle
            working = cycle is not None and not cycle.response_complete
            if not working and cycle is self._seen and not self.transport.is_closing():
                log.info("webhook connection closed: no complete request in time")
                self.transport.close()
                return
            self._arm()

    return DoorProtocol
