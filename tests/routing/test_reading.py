"""A delivery's body is read once, and reads the same whatever order its keys are in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import msgspec
import pytest

from bot.github.events import IssuesEvent, M, Unreadable, read_json
from bot.routing import ROUTER, DoorFacts
from bot.routing.reading import NotJson, Reading, read_delivery
from tests.conftest import FIXTURES

EXAMPLES = sorted(FIXTURES.glob("*.json"))


@contextmanager
def _counting_parses() -> Iterator[list[str]]:
    """The models each body is parsed with, in order (a read of a whole body, counted; not
    the envelope's fields, each read from its own slice of it)."""
    parses: list[str] = []

    def counted(model: type[M], data: bytes | msgspec.Raw) -> M:
        if isinstance(data, bytes):
            parses.append(model.__name__)
        return read_json(model, data)

    with patch("bot.routing.reading.read_json", counted):
        yield parses


def _naive(event: str, payload: dict[str, Any]) -> tuple[Any, ...]:
    """The record's fields as a plain read of the whole payload finds them."""
    action = payload.get("action")
    route = ROUTER.route(event, action)
    return (
        action,
        (payload.get("installation") or {}).get("id"),
        (payload.get("repository") or {}).get("full_name"),
        (payload.get("sender") or {}).get("login"),
        route,
    )


def _fields(reading: Reading) -> tuple[Any, ...]:
    return (
        reading.action,
        reading.installation_id,
        reading.repository,
        reading.sender,
        reading.route,
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_real_delivery_reads_as_a_plain_read_of_its_whole_payload_does(path: Path) -> None:
    event = path.name.split(".", 1)[0]
    payload = json.loads(path.read_bytes())
    reading = read_delivery(ROUTER, event, path.read_bytes())
    assert _fields(reading) == _naive(event, payload)
    assert reading.problem is None
    if reading.route is not None:
        assert reading.parsed is not None and reading.parsed.action == payload.get("action")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_a_delivery_whose_action_is_not_its_first_key_reads_the_same(path: Path) -> None:
    event = path.name.split(".", 1)[0]
    payload = json.loads(path.read_bytes())
    reordered = dict(reversed(payload.items()))
    compact = json.dumps(payload, separators=(",", ":")).encode()
    for body in (json.dumps(reordered).encode(), b"  \n" + compact):
        reading = read_delivery(ROUTER, event, body)
        assert _fields(reading) == _naive(event, payload)
        assert reading.parsed == read_delivery(ROUTER, event, path.read_bytes()).parsed


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_a_delivery_as_github_writes_it_is_parsed_once(path: Path) -> None:
    """Routed or not, with an action or without (a push), one parse of the body."""
    with _counting_parses() as parses:
        read_delivery(ROUTER, path.name.split(".", 1)[0], path.read_bytes())
    assert len(parses) == 1


def test_a_body_read_twice_is_one_whose_action_is_not_first_or_its_model_cannot_read() -> None:
    payload = json.loads((FIXTURES / "issues.labeled.json").read_bytes())
    reordered = json.dumps(dict(reversed(payload.items()))).encode()
    del payload["issue"]["number"]
    unreadable = json.dumps(payload).encode()
    for body in (reordered, unreadable):
        with _counting_parses() as parses:
            read_delivery(ROUTER, "issues", body)
        assert parses in (["_Envelope", "IssuesEvent"], ["IssuesEvent", "_Envelope"])


def test_the_action_the_route_s_model_reads_decides_the_route_not_the_body_s_first_key() -> None:
    """JSON keeps the last of two equal keys: a body that starts with one action and ends
    with another is routed by the one its model holds."""
    payload = json.loads((FIXTURES / "issues.labeled.json").read_bytes())
    body = b'{"action": "closed", ' + json.dumps(payload).encode()[1:]  # "labeled" later
    assert ROUTER.route("issues", "closed") is not None
    reading = read_delivery(ROUTER, "issues", body)
    assert reading.action == "labeled" and reading.route is ROUTER.route("issues", "labeled")
    assert reading.parsed is not None and reading.parsed.action == "labeled"


def test_a_routed_delivery_its_model_cannot_read_says_where_and_keeps_its_record() -> None:
    payload = json.loads((FIXTURES / "issues.labeled.json").read_bytes())
    del payload["issue"]["number"]
    reading = read_delivery(ROUTER, "issues", json.dumps(payload).encode())
    assert reading.route is ROUTER.route("issues", "labeled") and reading.parsed is None
    assert reading.problem == "issue.number: Field required"
    assert reading.repository == payload["repository"]["full_name"]
    assert reading.sender == payload["sender"]["login"]


@pytest.mark.parametrize(
    "envelope",
    [
        {"installation": "7", "repository": ["octo/repo"], "sender": {"login": 5}},
        {"installation": {"id": "seven"}, "repository": {"full_name": None}, "sender": None},
        {"action": 3, "installation": {"id": 7.5}, "repository": 1, "sender": "alice"},
    ],
)
def test_fields_of_the_wrong_shape_read_as_absent(envelope: dict[str, Any]) -> None:
    reading = read_delivery(ROUTER, "star", json.dumps(envelope).encode())
    assert (reading.installation_id, reading.repository, reading.sender) == (None, None, None)
    assert reading.route is None
    assert reading.action is None


def test_a_delivery_is_recorded_as_its_route_s_model_reads_it_routed_or_not() -> None:
    """The record holds what the job will use: a lax id ("7") reads as 7 on either path."""
    payload = json.loads((FIXTURES / "issues.labeled.json").read_bytes())
    payload["installation"] = {"id": "7"}
    body = json.dumps(payload).encode()
    routed, unrouted = read_delivery(ROUTER, "issues", body), read_delivery(ROUTER, "star", body)
    assert routed.parsed is not None and routed.parsed.installation is not None
    assert routed.installation_id == unrouted.installation_id == routed.parsed.installation.id == 7
    assert unrouted.route is None and unrouted.repository == routed.repository


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is not valid JSON"),
        (b'{"action":"labeled",', "body is not valid JSON"),
        (b'{"action":"labeled"} trailing', "body is not valid JSON"),
        (b"\xff\xfe\x00", "body is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "body is not a JSON object"),
        (b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "body is not valid JSON: nested"),
        (b'{"action":"labeled","x":' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001, "nested"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'"text"', "body is not a JSON object"),
        # not UTF-8 where no model looks (msgspec checks only the strings it builds)
        (b'{"action":"labeled","x":"\xff"}', "body is not valid JSON: it is not UTF-8"),
        (b'{"x":"\xed\xa0\x80"}', "not UTF-8"),  # a surrogate, UTF-8-encoded
    ],
)
def test_a_body_that_is_not_a_json_object_cannot_be_read(body: bytes, message: str) -> None:
    for event in ("issues", "push", "star"):
        with pytest.raises(NotJson, match=message):
            read_delivery(ROUTER, event, body)


@pytest.mark.parametrize(
    "action", [b"1e400", b"1" * 5_000, b"[1]", b'{"a":1}', b"null", b"true", b'"\\u00e9t\\u00e9"']
)
def test_any_json_value_as_an_unrouted_delivery_s_action_is_recorded(action: bytes) -> None:
    """An event Triad has no route for is recorded whatever its action holds: only a string
    is its action."""
    body = b'{"action":%s,"sender":{"login":"alice"},"installation":{"id":"7"}}' % action
    reading = read_delivery(ROUTER, "star", body)
    assert (reading.sender, reading.installation_id, reading.route) == ("alice", 7, None)
    assert reading.action == ("été" if action.startswith(b'"') else None)


def test_a_key_written_twice_reads_as_its_last_copy_when_every_copy_reads() -> None:
    """JSON keeps the last of two equal keys; msgspec reads each copy of a key a model
    declares, so an earlier copy it cannot read makes the delivery unreadable (GitHub writes
    each key once: only a hand-made body has two)."""
    payload = json.loads((FIXTURES / "issues.labeled.json").read_bytes())
    number = payload["issue"]["number"]
    issue = json.dumps(payload["issue"])
    twice = json.dumps(payload).encode()[:-1] + b',"issue":%s}' % issue.encode()
    read = read_delivery(
        ROUTER, "issues", twice.replace(b'"number": %d' % number, b'"number": 1', 1)
    )
    assert isinstance(read.parsed, IssuesEvent) and read.parsed.issue.number == number
    broken = json.dumps({**payload, "issue": 5}).encode()[:-1] + b',"issue":%s}' % issue.encode()
    unread = read_delivery(ROUTER, "issues", broken)
    assert unread.parsed is None and unread.problem == "issue: Expected `object`, got `int`"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"issue": {"title": "t"}}, "issue.number: Field required"),
        ({"issue": {"number": "x"}}, "issue.number: Expected `int`, got `str`"),
        (
            {
                "issue": {
                    "number": 1,
                    "title": "t",
                    "user": {"login": "a", "id": 1},
                    "labels": [{"name": "ok"}, {"nom": 1}],
                }
            },
            "issue.labels[1].name: Field required",
        ),
        ({}, "issue: Field required"),
    ],
)
def test_a_model_says_where_and_why_it_cannot_read_a_body(
    payload: dict[str, Any], problem: str
) -> None:
    body = json.dumps({"action": "labeled", "sender": {"login": "a", "id": 1}, **payload})
    with pytest.raises(Unreadable) as caught:
        read_json(IssuesEvent, body.encode())
    assert caught.value.problem == problem and not caught.value.not_json


def test_a_stored_body_nested_too_deeply_is_unreadable_in_the_worker_too() -> None:
    """The delivery job reads a stored body through `Router.admit`: too deep is `Unreadable`
    (the job fails for good, with the reason), never a RecursionError."""
    deep = b'{"action":"labeled","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(Unreadable, match="nested too deeply"):
        ROUTER.admit("issues", "labeled", deep, DoorFacts())
