"""The webhook relay: a smee.io-compatible SSE channel feeds Triad's real endpoint, signatures
checked there, a dropped channel is reopened with a backoff that a mere greeting does not reset,
garbage on the channel is skipped, and a relay that ends is started again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import SecretStr

from bot.github.signature import sign
from bot.relay import (
    RelayTask,
    ServerSentEvent,
    UnrelayableEvent,
    WebhookRelay,
    capped_lines,
    delivery_from_event,
    parse_events,
    relay_target,
)
from bot.runtime import serve
from bot.settings import Settings
from bot.store import open_store
from triad_lab.ports import free_port

SECRET = "relay-secret"


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_events_are_parsed_as_the_sse_format_says() -> None:
    lines = _lines(
        ": keep-alive",
        "event: ready",
        "data: {}",
        "",
        "id: 7",
        'data: {"a":',
        "data: 1}",
        "",
        "data:no-space",
        "",
    )
    events = [event async for event in parse_events(lines)]
    assert events == [
        ServerSentEvent("ready", "{}"),
        ServerSentEvent("message", '{"a":\n1}', "7"),
        ServerSentEvent("message", "no-space", "7"),
    ]


def test_a_smee_message_becomes_the_original_delivery() -> None:
    payload = {"action": "opened", "zoë": "ünïcode"}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    data = json.dumps(
        {
            "x-github-event": "issues",
            "x-hub-signature-256": sign(body.encode(), SECRET),
            "content-type": "application/json",
            "host": "smee.io",
            "content-length": "12",
            "body": json.loads(body),
            "query": {},
            "timestamp": 1,
        }
    )
    delivery = delivery_from_event(data)
    assert delivery is not None
    assert delivery.body == body.encode()
    assert delivery.headers == {
        "x-github-event": "issues",
        "x-hub-signature-256": sign(body.encode(), SECRET),
        "content-type": "application/json",
    }
    assert delivery_from_event("{}") is None
    with pytest.raises(UnrelayableEvent, match="not JSON"):
        delivery_from_event("not json")


def _message(secret: str = SECRET, **headers: str) -> tuple[str, str]:
    """A signed `ping` as a smee channel carries it: (delivery id, event data)."""
    delivery = str(uuid.uuid4())
    payload = {"zen": "Keep it logically awesome.", "hook_id": 1}
    body = json.dumps(payload, separators=(",", ":")).encode()
    data = {
        "x-github-event": "ping",
        "x-github-delivery": delivery,
        "x-hub-signature-256": sign(body, secret),
        "content-type": "application/json",
        **headers,
        "body": payload,
        "query": {},
        "timestamp": int(time.time() * 1000),
    }
    return delivery, json.dumps(data)


def _garbage(body: str) -> tuple[str, str]:
    """An event with a delivery id whose body is `body`, spelled as JSON text."""
    delivery = str(uuid.uuid4())
    return delivery, f'{{"x-github-delivery": "{delivery}", "x-github-event": "ping", ' + (
        f'"body": {body}}}'
    )


class Channel:
    """A smee.io-like channel: connection N streams `batches[N]`, then hangs up (the last
    connection stays open unless `hang_up_last`)."""

    def __init__(self, batches: list[list[str]], *, hang_up_last: bool = False) -> None:
        self.batches = batches
        self.connections = 0
        app = FastAPI()

        @app.get("/channel")
        async def channel() -> StreamingResponse:
            batch = self.batches[min(self.connections, len(self.batches) - 1)]
            self.connections += 1

            async def stream() -> AsyncIterator[str]:
                yield "event: ready\ndata: {}\n\n"
                for data in batch:
                    yield ": keep-alive\n\n"
                    yield f"data: {data}\n\n"
                if self.connections >= len(self.batches) and not hang_up_last:
                    await asyncio.sleep(30)  # the last connection stays open

            return StreamingResponse(stream(), media_type="text/event-stream")

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, port=self.port, log_level="warning", lifespan="off")
        )

    def __enter__(self) -> Channel:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(5)


@pytest.fixture
def channel() -> Iterator[tuple[Channel, list[str]]]:
    first, first_data = _message()
    forged, forged_data = _message(secret="not-the-secret")
    last, last_data = _message()
    with Channel([[first_data], [forged_data, last_data]]) as running:
        yield running, [first, forged, last]


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


async def test_serve_relays_the_channel_and_reconnects_when_it_drops(
    tmp_path: Path, channel: tuple[Channel, list[str]]
) -> None:
    server, (first, forged, last) = channel
    database = f"sqlite:///{tmp_path / 'triad.db'}"
    port = free_port()
    settings = Settings(
        app_id=1,
        private_key=SecretStr(_pem()),
        webhook_secret=SecretStr(SECRET),
        database_url=database,
        webhook_proxy_url=f"http://127.0.0.1:{server.port}/channel",
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, "127.0.0.1", port, 0, stop, handle_signals=False))
    found: dict[str, Any] = {}
    try:
        async with open_store(database) as store:
            for _ in range(400):
                for delivery in (first, forged, last):
                    found[delivery] = await store.get_delivery(delivery)
                if found[last] is not None:
                    break
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert found[first] is not None and found[first].event == "ping"
    assert found[last] is not None, "the relay did not reconnect after the channel dropped"
    assert found[forged] is None, "a delivery with a bad signature was accepted"
    assert server.connections >= 2


@pytest.fixture
async def triad(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Triad's real server (no relay of its own): (webhook endpoint URL, database URL)."""
    database = f"sqlite:///{tmp_path / 'triad.db'}"
    port = free_port()
    settings = Settings(app_id=1, private_key=_pem(), webhook_secret=SECRET, database_url=database)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, "127.0.0.1", port, 0, stop, handle_signals=False))
    async with httpx.AsyncClient() as client:
        for _ in range(400):
            assert not running.done(), running
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.05)
    yield relay_target("127.0.0.1", port), database
    stop.set()
    await asyncio.wait_for(running, 30)


async def _relay_until(relay: WebhookRelay, done: Any, seconds: float = 20) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while not done():
            assert not running.done(), running
            assert asyncio.get_running_loop().time() < deadline, "the relay got stuck"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        running.cancel()  # as `serve` does: the stream may be idle
        await asyncio.gather(running, return_exceptions=True)


async def test_garbage_on_the_channel_is_skipped_and_the_relay_goes_on(
    triad: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    target, database = triad
    odd_header, odd_header_data = _message(**{"x-forwarded-for": "ünïcode", "bad name": "x"})
    surrogate, surrogate_data = _garbage('{"zen": "\\ud800"}')
    nested, nested_data = _garbage("[" * 50_000 + "]" * 50_000)
    huge, huge_data = _garbage(json.dumps({"zen": "x" * 300_000}))
    last, last_data = _message()
    batch = [odd_header_data, surrogate_data, "not json", nested_data, huge_data, last_data]
    assert "\\ud800" in surrogate_data
    caplog.set_level(logging.WARNING, logger="bot.relay")
    with Channel([batch]) as channel:
        relay = WebhookRelay(
            f"http://127.0.0.1:{channel.port}/channel", target, max_event_chars=200_000
        )
        await _relay_until(relay, lambda: len(relay.forwarded) == 2)
    assert list(relay.forwarded) == [(odd_header, 200), (last, 200)]
    assert list(relay.skipped) == [surrogate, "?", nested, huge]
    assert relay.connections == 1
    logged = [r for r in caplog.records if r.getMessage().endswith("could not be relayed")]
    assert [r.__dict__["delivery"] for r in logged] == list(relay.skipped)
    async with open_store(database) as store:
        assert (await store.get_delivery(odd_header)) is not None
        assert (await store.get_delivery(last)) is not None


async def test_a_bad_signature_is_logged_with_a_hint(
    triad: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    target, _ = triad
    forged, forged_data = _message(secret="not-the-secret")
    caplog.set_level(logging.WARNING, logger="bot.relay")
    with Channel([[forged_data]]) as channel:
        relay = WebhookRelay(f"http://127.0.0.1:{channel.port}/channel", target)
        await _relay_until(relay, lambda: relay.forwarded)
    assert list(relay.forwarded) == [(forged, 401)]
    hint = next(r for r in caplog.records if "signature" in r.getMessage())
    assert "rawBody" in hint.getMessage() and hint.__dict__["delivery"] == forged


async def test_a_channel_that_only_greets_is_not_hammered(triad: tuple[str, str]) -> None:
    target, _ = triad
    with Channel([[]], hang_up_last=True) as channel:
        relay = WebhookRelay(
            f"http://127.0.0.1:{channel.port}/channel", target, min_backoff=0.01, max_backoff=0.08
        )
        await _relay_until(relay, lambda: len(relay.waits) >= 5)
    # each connection said `ready` and hung up: the waits double up to the cap
    for wait, base in zip(relay.waits, [0.01, 0.02, 0.04, 0.08, 0.08], strict=False):
        assert base * 0.8 <= wait <= base * 1.2, relay.waits


async def test_a_relayed_delivery_starts_the_backoff_afresh(triad: tuple[str, str]) -> None:
    target, _ = triad
    batches = [[_message()[1]] for _ in range(4)]
    with Channel(batches, hang_up_last=True) as channel:
        relay = WebhookRelay(
            f"http://127.0.0.1:{channel.port}/channel", target, min_backoff=0.01, max_backoff=0.08
        )
        await _relay_until(relay, lambda: len(relay.waits) >= 4)
    assert [status for _, status in list(relay.forwarded)[:3]] == [200, 200, 200]
    assert all(0.008 <= wait <= 0.012 for wait in list(relay.waits)[:3]), relay.waits


async def test_a_channel_gone_silent_is_opened_again(triad: tuple[str, str]) -> None:
    """A connection lost without a word (no FIN: a NAT's timeout, a sleeping laptop) stays
    open for ever unless silence ends it: deliveries were lost until a restart."""
    target, _ = triad
    first, data = _message()
    with Channel([[data]]) as channel:  # each connection says its one message, then nothing
        relay = WebhookRelay(
            f"http://127.0.0.1:{channel.port}/channel",
            target,
            min_backoff=0.01,
            silence_seconds=0.5,
        )
        await _relay_until(relay, lambda: relay.connections >= 2 and len(relay.forwarded) >= 2)
    assert list(relay.forwarded)[:2] == [(first, 200), (first, 200)]  # a ping, then again


def test_a_long_running_relay_keeps_only_its_recent_outcomes() -> None:
    relay = WebhookRelay("http://127.0.0.1:1/channel", "http://127.0.0.1:2/hook")
    for n in range(5000):
        relay.forwarded.append((str(n), 202))
    assert len(relay.forwarded) == 1000 and relay.forwarded[-1] == ("4999", 202)


async def test_a_line_split_over_many_chunks_is_one_line() -> None:
    async def chunks(*parts: str) -> AsyncIterator[str]:
        for part in parts:
            yield part

    parts = ("da", "ta: ", *("x" * 10 for _ in range(100)), "\r", "\nnext\r", "x\n")
    lines = [line async for line in capped_lines(chunks(*parts), 10_000)]
    assert lines == ["data: " + "x" * 1000, "next", "x"]


class _EndsOnce(WebhookRelay):
    """A relay whose first run dies of a bug, as a relay with a flaw would."""

    runs = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("a flaw in the relay")
        assert stop is not None
        await stop.wait()


async def test_a_relay_that_ends_is_logged_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    relay = _EndsOnce("http://127.0.0.1:9/channel", "http://127.0.0.1:9/api/github/webhooks")
    running = RelayTask(relay, stop, pause=0.01)
    for _ in range(200):
        if relay.runs == 2:
            break
        await asyncio.sleep(0.01)
    assert relay.runs == 2 and running.restarts == 1
    stopped = next(r for r in caplog.records if r.getMessage().startswith("webhook relay stopped"))
    assert "a flaw in the relay" in stopped.__dict__["error"]
    stop.set()
    await running.wait()
    assert relay.runs == 2  # a relay asked to stop is not started again


def test_the_relay_reaches_this_server_at_a_loopback_address() -> None:
    assert relay_target("0.0.0.0", 3000) == "http://127.0.0.1:3000/api/github/webhooks"
    assert relay_target("::", 3000) == "http://[::1]:3000/api/github/webhooks"
    assert relay_target("::1", 3000) == "http://[::1]:3000/api/github/webhooks"
    assert relay_target("localhost", 80) == "http://localhost:80/api/github/webhooks"


async def test_serve_on_ipv6_relays_to_itself(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'triad.db'}"
    port = free_port("::1")
    delivery, data = _message()
    with Channel([[data]]) as channel:
        settings = Settings(
            app_id=1,
            private_key=_pem(),
            webhook_secret=SECRET,
            database_url=database,
            webhook_proxy_url=f"http://127.0.0.1:{channel.port}/channel",
        )
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, "::1", port, 0, stop, handle_signals=False))
        try:
            async with open_store(database) as store:
                for _ in range(400):
                    if await store.get_delivery(delivery) is not None:
                        break
                    await asyncio.sleep(0.05)
                assert await store.get_delivery(delivery) is not None
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)


async def test_lines_are_split_on_every_line_end_and_cut_when_too_long() -> None:
    async def chunks(*parts: str) -> AsyncIterator[str]:
        for part in parts:
            yield part

    lines = [line async for line in capped_lines(chunks("a\r", "\nb\rc\n", "x" * 50, "y\nz\n"), 10)]
    assert lines == ["a", "b", "c", "x" * 11, "z"]
    events = [e async for e in parse_events(chunks("data: 12345", "", "data: 1", ""), 5)]
    assert events == [ServerSentEvent(too_large=True), ServerSentEvent("message", "1")]
