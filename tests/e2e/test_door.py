"""The webhook door under attack, on the real server: slow bodies, too many connections, big
unsigned bodies held open, replayed deliveries, payloads Triad cannot read, public metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.github.signature import sign
from bot.store import DeliveryOutcome
from tests.e2e.conftest import MAINTAINER, REPO, open_issue
from tests.e2e.helpers import workflow_of
from triad_lab.simulator import demo_repo
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

WEBHOOKS = "/api/github/webhooks"


@asynccontextmanager
async def guarded(tmp_path: Path, **settings: Any) -> AsyncIterator[TriadStack]:
    async with TriadStack(tmp_path, models=ScriptedModels(), settings=settings) as stack:
        stack.github.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        stack.github.install(REPO.split("/")[0], [REPO])
        await stack.settle()
        yield stack


def signed_headers(stack: TriadStack, body: bytes, event: str = "issues") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, stack.github.sender.secret),
        "Content-Type": "application/json",
    }


def a_labeled_issue(stack: TriadStack) -> bytes:
    """A real `issues.labeled` body, as the simulator makes them, that Triad has not seen."""
    number = open_issue(stack)
    stack.github.drop_deliveries(1)
    stack.github.add_label(REPO, number, MAINTAINER, "needs-triage")
    return stack.github.dropped_deliveries[-1].body


async def raw_request(stack: TriadStack, head: str, body: bytes = b"") -> asyncio.StreamReader:
    """A connection that sent `head` (and `body`) and then holds still."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.port)
    writer.write(head.encode() + body)
    await writer.drain()
    reader.writer = writer  # type: ignore[attr-defined]  # keep it open with the reader
    return reader


def post_head(length: int, extra: str = "") -> str:
    return (
        f"POST {WEBHOOKS} HTTP/1.1\r\nHost: triad\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n{extra}"
        f"Content-Length: {length}\r\n\r\n"
    )


async def test_a_body_sent_too_slowly_gets_408_and_is_not_stored(tmp_path: Path) -> None:
    async with guarded(tmp_path, webhook_read_seconds=10.0) as stack:  # the lowest allowed
        assert stack.store is not None
        body = a_labeled_issue(stack)
        await stack.settle()
        before = await stack.store.count_deliveries()
        signature = sign(body, stack.github.sender.secret)
        head = post_head(len(body), f"X-Hub-Signature-256: {signature}\r\n")
        reader, writer = await asyncio.open_connection("127.0.0.1", stack.port)
        writer.write(head.encode())
        started = time.monotonic()
        status = b""
        for byte in body:  # one byte every 0.2 s: the whole body would take an hour
            writer.write(bytes([byte]))
            try:
                status = await asyncio.wait_for(reader.readline(), timeout=0.2)
                break
            except TimeoutError:
                continue
        assert status.startswith(b"HTTP/1.1 408"), status
        assert 10 <= time.monotonic() - started < 15
        writer.close()
        assert await stack.store.count_deliveries() == before


async def test_a_connection_that_never_finishes_its_headers_is_closed(tmp_path: Path) -> None:
    async with guarded(tmp_path, webhook_read_seconds=10.0) as stack:
        reader = await raw_request(stack, f"POST {WEBHOOKS} HTTP/1.1\r\nHost: tri")
        assert await asyncio.wait_for(reader.read(), timeout=15) == b""  # closed by Triad


async def test_over_the_connection_cap_a_signed_delivery_gets_503_at_once(tmp_path: Path) -> None:
    async with guarded(tmp_path, webhook_max_connections=16, webhook_read_seconds=30.0) as stack:
        body = a_labeled_issue(stack)
        await stack.settle()
        stalled = [await raw_request(stack, f"POST {WEBHOOKS} HTTP/1.1\r\n") for _ in range(17)]
        async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
            started = time.monotonic()
            answer = await http.post(WEBHOOKS, content=body, headers=signed_headers(stack, body))
            assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
            assert time.monotonic() - started < 2
            for reader in stalled:
                reader.writer.close()  # type: ignore[attr-defined]
            await asyncio.sleep(0.3)
            headers = signed_headers(stack, body)
            answer = await http.post(WEBHOOKS, content=body, headers=headers)
            assert answer.status_code == 202, answer.text


async def test_big_unsigned_bodies_held_open_cannot_crowd_out_a_signed_delivery(
    tmp_path: Path,
) -> None:
    cap = 25 * 1024 * 1024  # the lowest allowed: one delivery of GitHub's largest size
    async with guarded(tmp_path, webhook_max_unverified_bytes=cap) as stack:
        assert stack.store is not None
        body = a_labeled_issue(stack)
        await stack.settle()
        # bytes actually sent count: 25.9 MB of a body, then the client holds still
        held = await raw_request(stack, post_head(cap), b"{" * 25_900_000)
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
            big = await http.post(
                WEBHOOKS, content=b"x" * 400_000, headers={"X-GitHub-Event": "issues"}
            )
            assert big.status_code == 503 and big.headers["retry-after"] == "5"
            # a small signed delivery still fits beside the held body
            answer = await http.post(WEBHOOKS, content=body, headers=signed_headers(stack, body))
            assert answer.status_code == 202, answer.text
        held.writer.close()  # type: ignore[attr-defined]


async def test_bodies_declared_but_never_sent_hold_no_bytes(tmp_path: Path) -> None:
    cap = 25 * 1024 * 1024
    async with guarded(tmp_path, webhook_max_unverified_bytes=cap) as stack:
        body = a_labeled_issue(stack)
        await stack.settle()
        # three connections declare half the cap each (under the size limit) and send nothing
        idle = [await raw_request(stack, post_head(cap // 2)) for _ in range(3)]
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
            answer = await http.post(WEBHOOKS, content=body, headers=signed_headers(stack, body))
            assert answer.status_code == 202, answer.text
        for reader in idle:
            reader.writer.close()  # type: ignore[attr-defined]


async def test_a_replayed_revise_command_makes_no_more_design_versions(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.comment(REPO, number, MAINTAINER, "Use a keyword.\n/triad revise")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2
    revise = next(d for d in stack.github.deliveries if d.event == "issue_comment")
    signature = sign(revise.body, stack.github.sender.secret)
    async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
        for _ in range(2):  # captured once, resent under new delivery ids
            headers = {
                "X-GitHub-Event": "issue_comment",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
            }
            answer = await http.post(WEBHOOKS, content=revise.body, headers=headers)
            assert answer.status_code == 200
            assert answer.json()["status"] == "duplicate"
            assert answer.json()["replay_of"] == revise.id
            assert stack.store is not None
            recorded = await stack.store.get_delivery(headers["X-GitHub-Delivery"])
            assert recorded is not None and recorded.outcome is DeliveryOutcome.DUPLICATE
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2


async def test_a_signed_payload_triad_cannot_read_is_kept_not_refused(stack: TriadStack) -> None:
    payload = json.loads(a_labeled_issue(stack))
    del payload["issue"]["user"]
    body = json.dumps(payload).encode()
    headers = signed_headers(stack, body)
    async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
        answer = await http.post(WEBHOOKS, content=body, headers=headers)
    assert answer.status_code == 202 and answer.json()["status"] == "unreadable"
    assert stack.store is not None
    kept = await stack.store.get_delivery(headers["X-GitHub-Delivery"])
    assert kept is not None and kept.outcome is DeliveryOutcome.UNREADABLE
    assert kept.body == body and "issue.user" in (kept.reason or "")


async def test_metrics_are_not_on_the_webhook_port(stack: TriadStack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
        assert (await http.get("/metrics")).status_code == 404


async def test_a_client_that_drops_its_upload_is_one_line_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    async with guarded(tmp_path) as stack:
        with caplog.at_level(logging.INFO):
            reader = await raw_request(stack, post_head(1000), b"{" * 10)
            await asyncio.sleep(0.3)
            reader.writer.close()  # type: ignore[attr-defined]
            await asyncio.sleep(0.5)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert "Traceback" not in capfd.readouterr().err  # nor from uvicorn's own logger
        assert any("went away" in str(getattr(r, "reason", "")) for r in caplog.records)
