"""Injected faults: requests GitHub answers late, with a server error, or rate-limited.

A test or the demo adds faults through `Simulator.fail`, `slow` and `rate_limit`; the REST API
takes the first matching one for each request after routing and authentication, so a faulted
call is still logged with its caller and route like any other.
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


class Faults:
    """The pending faults; scripting adds them from the test's thread, requests take them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(
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
        )
        with self._lock:
            self._pending.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, used up by one (None: serve it normally)."""
        with self._lock:
            for fault in self._pending:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None
