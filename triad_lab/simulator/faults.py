"""Injected faults: requests GitHub answers late, with a server error, or rate-limited; writes
GitHub carries out and then answers with a server error; requests held until released.

A test or the demo adds faults through `Simulator.fail`, `fail_after_write`, `slow`,
`rate_limit` and `hold`; the REST API takes the first matching one for each request after
routing and authentication, so a faulted call is still logged with its caller and route like
any other.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

#: GitHub's messages for the statuses tests inject most
DEFAULT_MESSAGES = {
    403: "You have exceeded a secondary rate limit. Please wait a few minutes before you try"
    " again.",
    429: "API rate limit exceeded",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
RATE_LIMIT = 5000


@dataclass
class Fault:
    """For the next `times` matching requests: wait `latency` s, then answer `status` instead
    of serving them (status 0: serve them, late)."""

    method: str  # an HTTP method, or "*"
    path: re.Pattern[str]
    status: int
    message: str
    headers: dict[str, str]
    times: int
    latency: float = 0.0
    #: primary rate limit: seconds until x-ratelimit-reset, counted from when it is served
    reset_in: int | None = None
    #: serve the request (the write happens), then answer `status` instead of its answer
    after: bool = False
    #: hold the request until released: "before" serving it (released, it is answered 502 and
    #: never served) or "after" (served, then answered as usual on release)
    hold: str | None = None
    #: given when added; and how many requests took it so far (a harness checks it fired)
    id: int = 0
    used: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "after": self.after,
            "hold": self.hold,
            "used": self.used,
            "left": self.times,
        }

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in {method, "*"} and bool(self.path.search(path))

    def served(self) -> FaultInjected:
        """The answer to give now (a rate limit's reset time is relative to this moment)."""
        headers = dict(self.headers)
        if self.reset_in is not None:
            headers |= {
                "x-ratelimit-limit": str(RATE_LIMIT),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": str(RATE_LIMIT),
                "x-ratelimit-reset": str(int(time.time()) + self.reset_in),
                "x-ratelimit-resource": "core",
            }
        return FaultInjected(self.status, self.message, headers)


class FaultInjected(Exception):
    """Raised by the API's request gate instead of serving a faulted request."""

    def __init__(self, status: int, message: str, headers: dict[str, str]) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = headers


@dataclass
class Held:
    """A request held by a `hold` fault until `release`."""

    id: int
    method: str
    path: str
    when: str
    released: threading.Event
    at: float = 0.0


class Faults:
    """The pending faults; scripting adds them from the test's thread, requests take them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        #: every fault added, used up, cleared or not (what fired is read from them)
        self._added: list[Fault] = []
        self._held: dict[int, Held] = {}
        self._held_ids = 0

    def hold(self, method: str, path: str, when: str) -> Held:
        """Record a request as held; its thread waits on `released`."""
        with self._lock:
            self._held_ids += 1
            held = Held(self._held_ids, method, path, when, threading.Event(), time.time())
            self._held[held.id] = held
            return held

    def held(self) -> list[Held]:
        with self._lock:
            return list(self._held.values())

    def release(self, held_id: int | None = None) -> int:
        """Let one held request (or all) go on; returns how many were released."""
        with self._lock:
            chosen = [h for i, h in self._held.items() if held_id in (None, i)]
            for held in chosen:
                del self._held[held.id]
        for held in chosen:
            held.released.set()
        return len(chosen)

    def add(  # noqa: PLR0913 - a fault's fields, keyword-only
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        latency: float = 0.0,
        reset_in: int | None = None,
        after: bool = False,
        hold: str | None = None,
    ) -> Fault:
        fault = Fault(
            method.upper(),
            re.compile(path),
            status,
            message or DEFAULT_MESSAGES.get(status, "Error"),
            dict(headers or {}),
            times,
            latency,
            reset_in,
            after,
            hold,
        )
        with self._lock:
            fault.id = len(self._added) + 1
            self._added.append(fault)
            self._pending.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Forget one pending fault (the others stay); False when it was not pending."""
        with self._lock:
            kept = [fault for fault in self._pending if fault.id != fault_id]
            removed = len(kept) != len(self._pending)
            self._pending = kept
        return removed

    def summary(self) -> list[dict[str, object]]:
        """Every fault added, with how many requests it was used for."""
        with self._lock:
            return [fault.summary() for fault in self._added]

    def clear(self) -> None:
        """Forget the faults not used up yet (held requests stay held until released)."""
        with self._lock:
            self._pending.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, used up by one (None: serve it normally)."""
        with self._lock:
            for fault in self._pending:
                if fault.matches(method, path):
                    fault.times -= 1
                    fault.used += 1
                    return fault
        return None
