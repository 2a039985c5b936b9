"""githubkit's and httpx's failures as Triad's errors: the one translation, made where every
call leaves the client (`client.Client`), after githubkit's own retries.

Which error a failure becomes (see `bot.errors`):

| GitHub's answer                                         | Triad's error       |
|---------------------------------------------------------|---------------------|
| 403 or 429 for a primary or secondary rate limit        | `GitHubRateLimited` |
| 404, 410                                                | `GitHubNotFound`    |
| 401, other 403                                          | `GitHubForbidden`   |
| 409                                                     | `GitHubConflict`    |
| other 4xx (422 validation failed, 405, 406, ...)        | `GitHubRefused`     |
| 5xx, a timeout, a failed connection                     | `GitHubUnavailable` |
| a GraphQL answer with errors: by the errors' type       | as above            |
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from bot.errors import (
    GitHubConflict,
    GitHubError,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRefused,
    GitHubUnavailable,
)

#: how a rate limit reads when it comes without rate-limit headers (as octokit tells them)
_RATE_LIMIT = re.compile(r"\brate limit", re.IGNORECASE)
_GRAPHQL_ERRORS: dict[str, type[GitHubError]] = {
    "NOT_FOUND": GitHubNotFound,
    "FORBIDDEN": GitHubForbidden,
}


def translate(exc: GitHubException, method: str, url: httpx.URL | str) -> GitHubError:
    """The Triad error for a failed call to `method` `url` (the request GitHub answered is
    named instead when there is one, e.g. the token request behind a call)."""
    if isinstance(exc, RequestFailed):
        return _answered(exc)
    if isinstance(exc, RequestTimeout):
        return GitHubUnavailable(
            "no answer before the timeout", method=method, path=_path(url), status=0
        )
    if isinstance(exc, RequestError):
        inner = exc.exc
        if isinstance(inner, GitHubException):  # raised while authenticating the call
            return translate(inner, method, url)
        if isinstance(inner, httpx.TransportError):
            said = f"{type(inner).__name__}: {inner}".rstrip(": ")
            return GitHubUnavailable(said, method=method, path=_path(url))
        return GitHubError(f"{type(inner).__name__}: {inner}", method=method, path=_path(url))
    if isinstance(exc, GraphQLFailed):
        return _graphql(exc, method, url)
    return GitHubError(str(exc) or type(exc).__name__, method=method, path=_path(url))


def _answered(exc: RequestFailed) -> GitHubError:
    response = exc.response.raw_response
    status = response.status_code
    message, details = _said(response)
    call: dict[str, Any] = {
        "method": exc.request.method,
        "path": exc.request.url.path,
        "status": status,
        "details": details,
    }
    if isinstance(exc, RateLimitExceeded):
        return GitHubRateLimited(message, retry_after=exc.retry_after.total_seconds(), **call)
    if status == 429 or (status == 403 and _RATE_LIMIT.search(message)):
        return GitHubRateLimited(message, **call)  # no time named: wait a minute
    if status in (404, 410):
        return GitHubNotFound(message, **call)
    if status in (401, 403):
        return GitHubForbidden(message, **call)
    if status == 409:
        return GitHubConflict(message, **call)
    if status >= 500:
        return GitHubUnavailable(message, **call)
    return GitHubRefused(message, **call)


def _said(response: httpx.Response) -> tuple[str, tuple[str, ...]]:
    """GitHub's message and the reasons it listed; a body that is not GitHub's JSON (a proxy's
    error page) is quoted briefly."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return (response.text.strip()[:200] or response.reason_phrase), ()
    errors = body.get("errors")
    details = tuple(_reason(e) for e in errors) if isinstance(errors, list) else ()
    return str(body.get("message") or response.reason_phrase), details


def _reason(error: object) -> str:
    """One entry of a 422's `errors`: a string, or {resource, field, code[, message]}."""
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    where = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
    return f"{where} {error.get('code', 'invalid')}".strip()


def _graphql(exc: GraphQLFailed, method: str, url: httpx.URL | str) -> GitHubError:
    errors = exc.response.errors or []
    message = "; ".join(e.message for e in errors) or "GraphQL request failed"
    # githubkit raises a GraphQL rate limit as RateLimitExceeded already
    kind = _GRAPHQL_ERRORS.get(errors[0].type or "", GitHubRefused) if errors else GitHubRefused
    return kind(message, method=method, path=_path(url), status=200)


def _path(url: httpx.URL | str) -> str:
    return httpx.URL(url).path
