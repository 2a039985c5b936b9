"""Writes that may have happened: GitHub can carry out a write and still answer 5xx, time out,
or drop the connection. Sending such a write again could post a second comment, PR or review,
so Triad first looks whether it landed (by its marker, the branch head, the PR by its branch,
the review by its body) and sends it again only when it did not.

Writes that are safe to repeat (reads, PUT/PATCH/DELETE, content-addressed git objects, label
sets, Triad's GraphQL mutations) are retried by the client itself (`client.RetryServerErrors`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.errors import GitHubUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: POSTs whose repetition changes nothing: git objects are addressed by their content (a second
#: commit object is never referenced), labels are a set, tokens are new anyway, and the only
#: GraphQL mutation Triad makes marks a PR ready
_REPEATABLE_POST = re.compile(r"/git/(blobs|trees|commits)$|/labels$|/access_tokens$|/graphql$")
#: PUT, PATCH and DELETE set a state, so a second one finds it set; a merge does not (a second
#: one is refused as "not mergeable")
_NOT_REPEATABLE_PUT = re.compile(r"/merge$")


def repeatable(method: str, path: str) -> bool:
    """Whether a request may be sent again, unchanged, after a 5xx."""
    method = method.upper()
    if method == "POST":
        return bool(_REPEATABLE_POST.search(path))
    if method == "PUT":
        return not _NOT_REPEATABLE_PUT.search(path)
    return True


async def write_once(
    write: Callable[[], Awaitable[T]],
    landed: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    attempts: int = 3,
    delay: float = 1.0,
) -> T:
    """Do `write`; when GitHub's answer leaves it unknown whether it took effect, wait
    `delay * 2**n` seconds (a request that timed out may still be at work) and ask `landed`
    (its result, or None) before sending it again."""
    for attempt in range(attempts):
        try:
            return await write()
        except GitHubUnavailable as exc:
            await asyncio.sleep(delay * 2**attempt)
            found = await landed()
            if found is not None:
                log.info("a write GitHub failed to answer had landed", extra={"write": what})
                return found
            if attempt == attempts - 1:
                raise
            log.info(
                "a write failed and did not land: sending it again",
                extra={"write": what, "error": str(exc)},
            )
    raise AssertionError("unreachable")
