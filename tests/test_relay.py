"""The webhook relay: a smee.io-compatible SSE channel feeds Triad's real endpoint, signatures
checked there, and a dropped channel is reopened."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import SecretStr

from bot.github.signature import sign
from bot.relay import ServerSentEvent, delivery_from_event, parse_events
from bot.runtime import serve
from bot.settings import Settings
from bot.store import open_store

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
    assert delivery_from_event("{}") is None and delivery_from_event("not json") is None


def _message(secret: str = SECRET) -> tuple[str, str]:
    """A signed `ping` as a smee channel carries it: (delivery id, event data)."""
    delivery = str(uuid.uuid4())
    payload = {"zen": "Keep it logically awesome.", "hook_id": 1}
    body = json.dumps(payload, separators=(",", ":")).encode()
    data = {
        "x-github-event": "ping",
        "x-github-delivery": delivery,
        "x-hub-signature-256": sign(body, secret),
        "content-type": "application/json",
        "body": payload,
        "query": {},
        "timestamp": int(time.time() * 1000),
    }
    return delivery, json.dumps(data)


class Channel:
    """A smee.io-like channel: connection N streams `batches[N]`, then hangs up."""

    def __init__(self, batches: list[list[str]]) -> None:
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
                if self.connections >= len(self.batches):
                    await asyncio.sleep(30)  # the last connection stays open

            return StreamingResponse(stream(), media_type="text/event-stream")

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
