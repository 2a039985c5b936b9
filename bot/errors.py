"""Triad's exception hierarchy: every failure a user or operator can meet has a named type."""

from __future__ import annotations

from typing import TypedDict, Unpack


class TriadError(Exception):
    """Base of every error Triad raises on purpose."""


class ConfigError(TriadError):
    """A setting or configuration file is missing or malformed; the message names it."""


class StoreError(TriadError):
    """The store could not do what was asked (unreachable, schema too new, ...)."""


class _Call(TypedDict, total=False):
    """Which call failed, as a GitHubError names it (its keyword arguments)."""

    method: str
    path: str
    status: int
    details: tuple[str, ...]


class GitHubError(TriadError):
    """A GitHub API call failed; the subclass says how, the fields say which call and why.

    Raised only by `bot.github`, which translates githubkit's and httpx's failures after its
    own retries. `status` is GitHub's HTTP status (0 when GitHub never answered), `message`
    GitHub's own words and `details` the reasons a refusal listed (a 422's `errors`).
    """

    #: what the reader should know about this kind of failure, after GitHub's words
    hint = ""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int = 0,
        details: tuple[str, ...] = (),
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.details = details
        super().__init__(message)

    @property
    def reason(self) -> str:
        """GitHub's message with the reasons it listed, e.g. "Validation Failed: Line could
        not be resolved"."""
        return ": ".join(dict.fromkeys(part for part in (self.message, *self.details) if part))

    def __str__(self) -> str:
        call = f"{self.method} {self.path}".strip()
        answer = f"{self.status} {self.reason}" if self.status else self.reason
        text = f"{call}: {answer}" if call else answer
        return f"{text} ({self.hint})" if self.hint else text


class GitHubNotFound(GitHubError):
    """404 or 410: the resource does not exist, or the App's installation cannot see it."""

    hint = "it does not exist, or the App's installation cannot see it"


class GitHubForbidden(GitHubError):
    """401 or 403 that is not a rate limit: the App lacks a permission or access."""

    hint = "the App lacks a permission or access to the repository"


class GitHubConflict(GitHubError):
    """409: the resource's state forbids the call now (a merge whose head moved, an empty
    repository)."""


class GitHubRefused(GitHubError):
    """Any other 4xx, mostly 422: GitHub understood the request and refused it; `details`
    holds the reasons it listed."""


class Outage(Exception):
    """GitHub or a model provider could not be used (down, rate limited, or no key to call
    it), not a defect of Triad's: a job it fails is retried later, and its log line says so in
    one line, with no traceback."""


class GitHubRateLimited(GitHubError, Outage):
    """403 or 429 for a primary or secondary rate limit, still there after githubkit's
    retries; `retry_after` is how many seconds GitHub asked to wait."""

    def __init__(self, message: str, *, retry_after: float = 60.0, **call: Unpack[_Call]) -> None:
        """`retry_after` defaults to the minute GitHub asks for when it names no time."""
        super().__init__(message, **call)
        self.retry_after = retry_after
        self.hint = f"rate limited: retry after {retry_after:.0f} s"


class GitHubUnavailable(GitHubError, Outage):
    """5xx still there after the retries, a timeout or a failed connection: trying again
    later may succeed."""

    hint = "GitHub is unavailable: a later retry may succeed"


class ModelError(TriadError):
    """A model call failed after its retries, or its output never fit the schema."""


class PermanentJobError(TriadError):
    """Retrying cannot help (bad payload, missing record): the job is dead-lettered at once."""
