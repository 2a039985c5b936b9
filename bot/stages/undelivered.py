"""A delivery whose job died: a person's label, command or review Triad never acted on.

Without a word, a maintainer's `triad:approved` lost to a GitHub outage would simply never
happen. The sweep finds each such death, maps it to its issue from the stored delivery, and the
finish job says so there: once a day per issue at most (an outsider cannot multiply comments),
with the kind of failure and how to go on, never the error itself.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from bot.numbers import MAX_ISSUE_NUMBER
from bot.stages.dead import category, details
from bot.store import Job, Store

_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$")
_LABEL = re.compile(r"^[\w:./ -]{1,50}$")
_NAME = re.compile(r"^[a-z_]{1,40}$")


@dataclass(frozen=True)
class LostDelivery:
    """A dead delivery job, and what its delivery was about as far as it can be told."""

    job: Job
    delivery_id: str
    repository: str | None
    installation_id: int | None
    #: the issue or pull request it concerned (None: none, or the body was pruned)
    number: int | None
    sender: str | None
    #: what the person did, in words safe to repeat in public
    what: str


async def lost_delivery(store: Store, job: Job) -> LostDelivery:
    """What the dead delivery job `job` was about, from its stored delivery."""
    delivery_id = str(job.payload.get("delivery_id") or "")
    delivery = await store.get_delivery(delivery_id) if delivery_id else None
    body: dict[str, Any] = {}
    if delivery is not None and delivery.body:
        try:
            loaded = json.loads(delivery.body)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than json goes
            loaded = None
        body = loaded if isinstance(loaded, dict) else {}
    about = _object(body, "issue") or _object(body, "pull_request")
    number = about.get("number")
    repository = _object(body, "repository").get("full_name") or (
        delivery.repository if delivery else None
    )
    installation = _object(body, "installation").get("id") or (
        delivery.installation_id if delivery else None
    )
    sender = _object(body, "sender").get("login") or (delivery.sender if delivery else None)
    return LostDelivery(
        job=job,
        delivery_id=delivery_id,
        repository=repository if isinstance(repository, str) else None,
        installation_id=installation if isinstance(installation, int) else None,
        number=number if isinstance(number, int) and 0 < number <= MAX_ISSUE_NUMBER else None,
        sender=sender if isinstance(sender, str) and _LOGIN.match(sender) else None,
        what=_what(delivery.event if delivery else "", delivery.action if delivery else "", body),
    )


#: a notice's lines, and the jobs its retry command names (Triad's own words: labels and
#: logins in them are checked when they are written)
_TOLD_LINE = re.compile(r"^- .*$", re.M)
_RETRY = re.compile(r"`triad jobs retry ([0-9 ]+)`")


def notice_key(now: float) -> str:
    """The marker of the day's notice on an issue: one a day at most."""
    return f"undelivered:{time.strftime('%Y-%m-%d', time.gmtime(now))}"


def notice(lost: list[LostDelivery], earlier: str = "") -> str:
    """The comment saying what Triad could not act on, why, and how to go on; with what
    `earlier`, the day's notice so far, said already (a loss later that day joins it)."""
    lines = _TOLD_LINE.findall(earlier)
    said = " ".join(_RETRY.findall(earlier)).split()
    lost = [one for one in lost if str(one.job.id) not in said]  # a retried finish job's
    jobs = " ".join([*said, *(str(one.job.id) for one in lost)])
    for one in lost:
        by = f" by @{one.sender}" if one.sender else ""
        lines.append(f"- {one.what}{by}: {category(one.job.last_error)}. {details(one.job.id)}")
    return (
        "Triad could not act on this, even after retrying:\n\n"
        + "\n".join(lines)
        + "\n\nTo go on, do it again (remove and add the label, or post the command again), "
        f"or an operator runs `triad jobs retry {jobs}`."
    )


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def _what(event: str | None, action: str | None, body: dict[str, Any]) -> str:
    label = _object(body, "label").get("name")
    if action in ("labeled", "unlabeled") and isinstance(label, str) and _LABEL.match(label):
        return f"{'adding' if action == 'labeled' else 'removing'} the `{label}` label"
    if event == "issue_comment":
        return "a comment"
    if event in ("pull_request_review", "pull_request_review_comment"):
        return "a review"
    if event and _NAME.match(event) and (action is None or _NAME.match(action)):
        return f"the `{event}{'.' + action if action else ''}` event"
    return "an event"
