"""Why a job died, as Triad says it in public: a category, never the error itself.

A job's last error can name hosts, processes, addresses, database users; GitHub readers get
what kind of failure it was and where the operator finds the details (`triad jobs show ID`).
"""

from __future__ import annotations

import re

CRASHED = "its worker stopped (crashed or was killed) during every attempt"
GITHUB = "GitHub was unavailable or refused the request"
MODEL = "the model was unavailable"
STORE = "Triad's store (its database) was unavailable"
NETWORK = "a connection failed"
UNEXPECTED = "it failed with an unexpected error"

_MODEL_ERRORS = {
    "ModelError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "APIError",
    "RateLimitError",
    "InternalServerError",
    "OverloadedError",
    "AuthenticationError",
    "PermissionDeniedError",
    "BadRequestError",
}
_STORE_ERRORS = {"StoreError", "OperationalError", "InterfaceError", "DatabaseError", "PoolTimeout"}
_NETWORK_ERRORS = {"ConnectionError", "TimeoutError", "ConnectError", "ReadTimeout", "OSError"}
_NAME = re.compile(r"^([A-Za-z_][\w.]*)\s*:")


def category(last_error: str | None) -> str:
    """The kind of failure a job's last error shows, in words fit for a public comment."""
    lines = [line.strip() for line in (last_error or "").splitlines() if line.strip()]
    if not lines:
        return UNEXPECTED
    last = lines[-1]
    if last.startswith("lease expired"):
        return CRASHED
    found = _NAME.match(last)
    name = found.group(1).rsplit(".", 1)[-1] if found else ""
    if name.startswith("GitHub"):
        return GITHUB
    if name in _MODEL_ERRORS:
        return MODEL
    if name in _STORE_ERRORS or "psycopg" in last or "sqlite3" in last:
        return STORE
    if name in _NETWORK_ERRORS or name.endswith("ConnectionError"):
        return NETWORK
    return UNEXPECTED


def details(job_id: int) -> str:
    return f"An operator sees the details with `triad jobs show {job_id}`."
