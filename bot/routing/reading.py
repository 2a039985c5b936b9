"""A delivery's body read once: its route's model, and the fields every delivery's record keeps.

Parsing a whole ~16 kB delivery into Python objects only to read a few fields cost the web
process more than anything else it does for a delivery. GitHub writes `action` as a delivery's
first key, so the action is read off the body's start and the route it names is the only parse
(msgspec builds just the fields its model declares); a body with no action (a push, a status)
is read by its event's action-less route at once. Any other body (an event Triad has no route
for, a hand-made delivery with its keys in another order) is first read by a small lenient
model for its action and the record's fields: a second pass, never a wrong route, since the
action the route's model reads must be the one that chose it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from bot.github.events import (
    InstallationRef,
    Lenient,
    M,
    Unreadable,
    WebhookEvent,
    read_json,
)
from bot.routing.router import NO_ACTION, Route, Router

#: `{"action":"labeled", ...`, as GitHub writes every delivery that has an action
_LEADING_ACTION = re.compile(
    rb'[ \t\r\n]*\{[ \t\r\n]*"action"[ \t\r\n]*:[ \t\r\n]*"([a-z_]{1,64})"'
)


class NotJson(ValueError):
    """The body is not a JSON object: nothing can be read from it."""


class _RepositoryRef(Lenient, kw_only=True):
    full_name: str


class _SenderRef(Lenient, kw_only=True):
    login: str


class _Envelope(Lenient, kw_only=True):
    """What every delivery is recorded with, whatever its event, read as the routes' models
    read it (an id of "7" is 7); a field of another shape reads as absent, so any JSON object
    can be recorded. Each is kept as its raw JSON (`msgspec.Raw`, no copy; empty when
    absent) and read alone."""

    action: msgspec.Raw = msgspec.Raw()
    installation: msgspec.Raw = msgspec.Raw()
    repository: msgspec.Raw = msgspec.Raw()
    sender: msgspec.Raw = msgspec.Raw()


@dataclass(frozen=True)
class Reading:
    """A delivery as the door reads it: the record's fields, its route and the route's model
    of it. Three cases: no route (`route` None), read (`parsed` set), or unreadable (`route`
    set, `parsed` None, and `problem` says where and why)."""

    action: str | None
    installation_id: int | None
    repository: str | None
    sender: str | None
    route: Route[Any] | None = None
    parsed: WebhookEvent | None = None
    problem: str | None = None


def read_delivery(router: Router, event: str, body: bytes) -> Reading:
    """The body read for `event`'s route; `NotJson` when it is not a JSON object."""
    if not body.isascii():  # msgspec checks the UTF-8 only of the strings it builds
        try:
            body.decode()
        except UnicodeDecodeError:
            raise NotJson("body is not valid JSON: it is not UTF-8") from None
    leading = _LEADING_ACTION.match(body)
    guess = leading.group(1).decode() if leading else NO_ACTION
    guessed = router.route(event, guess)
    failed: Unreadable | None = None
    if guessed is not None:
        try:
            parsed = read_json(guessed.model, body)
        except Unreadable as exc:
            _raise_if_not_json(exc)
            failed = exc
        else:
            if (parsed.action or NO_ACTION) == guess:
                return _of_parsed(guessed, parsed)
    envelope = _read_envelope(body)
    action = _text(envelope.action)
    installation = _field(InstallationRef, envelope.installation)
    repository = _field(_RepositoryRef, envelope.repository)
    sender = _field(_SenderRef, envelope.sender)
    reading = Reading(
        action,
        installation.id if installation else None,
        repository.full_name if repository else None,
        sender.login if sender else None,
    )
    route = router.route(event, action)
    if route is None:
        return reading
    if route is guessed and failed is not None:  # the same model: it fails the same way
        return replace(reading, route=route, problem=failed.problem)
    try:
        parsed = read_json(route.model, body)
    except Unreadable as exc:
        return replace(reading, route=route, problem=exc.problem)
    return _of_parsed(route, parsed)


def _field(model: type[M], raw: msgspec.Raw) -> M | None:
    """An envelope's field read as `model`, or None when it is absent or has another shape."""
    if not raw:
        return None
    try:
        return read_json(model, raw)
    except Unreadable:
        return None


_STRING = msgspec.json.Decoder(str)


def _text(raw: msgspec.Raw) -> str | None:
    """An envelope's field read as a string, or None when it is absent or not one."""
    if not raw:
        return None
    try:
        return _STRING.decode(raw)
    except msgspec.DecodeError:
        return None


def _of_parsed(route: Route[Any], parsed: WebhookEvent) -> Reading:
    return Reading(
        parsed.action,
        parsed.installation.id if parsed.installation else None,
        parsed.repository.full_name if parsed.repository else None,
        parsed.sender.login,
        route,
        parsed,
    )


def _read_envelope(body: bytes) -> _Envelope:
    try:
        return read_json(_Envelope, body)
    except Unreadable as exc:
        _raise_if_not_json(exc)
        raise NotJson("body is not a JSON object") from None


def _raise_if_not_json(exc: Unreadable) -> None:
    if exc.not_json:
        raise NotJson(exc.problem) from None
