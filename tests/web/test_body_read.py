"""The door's read of an unverified body, message by message as ASGI delivers it: every answer
it gives, and the budget of held bytes given back on every path."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

from bot.web.door import DoorLimits, Refused

Receive = Callable[[], Awaitable[dict[str, Any]]]


def messages(*chunks: bytes, then: str | None = None) -> Receive:
    """An ASGI `receive` giving `chunks` as a body in that many messages; `then`:
    "disconnect" (the client goes away instead of finishing) or "stall" (nothing more)."""
    queue: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or bool(then)}
        for i, chunk in enumerate(chunks)
    ]
    if then == "disconnect":
        queue.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("unreachable")

    return receive


async def refused_by(reading: asyncio.Task[bytes]) -> Refused:
    with pytest.raises(Refused) as refused:
        await reading
    return refused.value


async def refusal(door: DoorLimits, receive: Receive, declared: str | None, limit: int) -> Refused:
    with pytest.raises(Refused) as refused:
        await door.read_body(receive, declared, limit)
    assert door.held == 0, "a refused body holds nothing"
    return refused.value


async def refusal_keeping(door: DoorLimits, receive: Receive, held: int) -> Refused:
    """A refusal while another body is held: that one's bytes stay held, no more."""
    with pytest.raises(Refused) as refused:
        await door.read_body(receive, None, 100)
    assert door.held == held
    return refused.value


async def test_a_body_in_many_messages_is_read_whole_and_held_until_released() -> None:
    door = DoorLimits()
    body = await door.read_body(messages(b"ab", b"", b"cd", b"e"), None, 10)
    assert body == b"abcde"
    assert door.held == 5
    door.release(len(body))
    assert door.held == 0


async def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413() -> None:
    door = DoorLimits()
    assert await door.read_body(messages(b"12345", b"67890"), None, 10) == b"1234567890"
    door.release(10)
    over = await refusal(door, messages(b"12345", b"67890", b"!"), None, 10)
    assert over.status == 413


async def test_a_declared_length_over_the_limit_is_413_before_anything_is_read() -> None:
    door = DoorLimits()
    assert (await refusal(door, messages(then="stall"), "11", 10)).status == 413
    # a length that is not plain ASCII digits is not believed, never a crash
    assert await door.read_body(messages(b"ok"), "\u00b2", 10) == b"ok"
    door.release(2)


async def test_a_client_that_goes_away_is_400_and_gives_its_bytes_back() -> None:
    door = DoorLimits()
    gone = await refusal(door, messages(b"half a bo", then="disconnect"), "20", 100)
    assert gone.status == 400


async def test_a_body_that_does_not_arrive_in_time_is_408() -> None:
    door = DoorLimits(read_seconds=0.05)
    slow = await refusal(door, messages(b"a start", then="stall"), None, 100)
    assert slow.status == 408


async def test_reads_started_apart_each_end_at_their_own_deadline() -> None:
    """One timer watches every read of the port: the first read's deadline cuts it alone."""
    door = DoorLimits(read_seconds=0.2)
    first = asyncio.create_task(door.read_body(messages(then="stall"), None, 100))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(door.read_body(messages(then="stall"), None, 100))
    assert (await refused_by(first)).status == 408
    assert not second.done()
    assert (await refused_by(second)).status == 408


async def test_a_read_over_in_time_is_never_cut_afterwards() -> None:
    """Its task goes on past the deadline (the endpoint stores and answers) undisturbed."""
    door = DoorLimits(read_seconds=0.05)

    async def read_then_wait() -> bytes:
        body = await door.read_body(messages(b"whole"), None, 100)
        await asyncio.sleep(0.15)
        return body

    stalled = asyncio.create_task(door.read_body(messages(then="stall"), None, 100))
    assert await read_then_wait() == b"whole"
    assert (await refused_by(stalled)).status == 408  # the deadline still cuts the other


async def test_a_read_cancelled_from_elsewhere_as_its_deadline_cuts_it_stays_cancelled() -> None:
    """A server stopping (say) as the deadline passes: the cancel goes on, never a 408."""
    door = DoorLimits(read_seconds=0.01)
    reading = asyncio.create_task(door.read_body(messages(b"part", then="stall"), None, 100))
    while door.held == 0:
        await asyncio.sleep(0)
    time.sleep(0.02)  # past the deadline, with the loop held so its timer has not run
    door._deadlines._sweep(asyncio.get_running_loop())  # the deadline cuts it ...
    reading.cancel()  # ... and so does someone else
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert door.held == 0


async def test_a_read_after_the_timer_ran_with_nothing_to_cut_is_still_cut() -> None:
    """The timer fires for a read that ended in time; a read started after it is watched."""
    door = DoorLimits(read_seconds=0.02)
    assert await door.read_body(messages(b"x"), None, 10) == b"x"
    door.release(1)
    await asyncio.sleep(0.05)
    stalled = asyncio.create_task(door.read_body(messages(then="stall"), None, 100))
    assert (await refused_by(asyncio.ensure_future(asyncio.wait_for(stalled, 2)))).status == 408


async def test_a_408_leaves_no_cancel_request_behind_and_nothing_watched() -> None:
    """What the deadline cancelled is taken back (a later timeout or task group in the same
    request would see it otherwise), including when the task had a cancel already counted."""
    door = DoorLimits(read_seconds=0.01)

    async def read() -> int:
        with pytest.raises(Refused):
            await door.read_body(messages(then="stall"), None, 100)
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    assert await read() == 0

    async def read_with_a_cancel_counted() -> int:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)  # the cancel lands here; it stays counted
        assert task.cancelling() == 1
        return await read()

    assert await read_with_a_cancel_counted() == 1
    assert not door._deadlines._due and not door._deadlines._cut


def test_under_uvloop_a_deadline_within_a_millisecond_is_408() -> None:
    """uvloop gives a timer due within the millisecond as a plain handle, run at the loop's
    next turn: the read is still cut, answered 408, and holds nothing."""

    async def scenario() -> list[int]:
        door = DoorLimits(read_seconds=0.0002)
        reads = [door.read_body(messages(b"x", then="stall"), None, 100) for _ in range(3)]
        answers = await asyncio.gather(*reads, return_exceptions=True)
        assert door.held == 0
        return [answer.status for answer in answers if isinstance(answer, Refused)]

    assert uvloop.run(scenario()) == [408, 408, 408]


def test_reads_on_a_new_event_loop_are_watched_afresh() -> None:
    """A loop stopped with a read under way (tests, a restarted server): the next loop's
    reads still end at their deadlines."""
    door = DoorLimits(read_seconds=0.05)

    async def stalled_read() -> int:
        try:
            await door.read_body(messages(then="stall"), None, 100)
        except Refused as refused:
            return refused.status
        raise AssertionError("the read never ends")

    async def abandoned() -> None:
        asyncio.get_running_loop().create_task(stalled_read())
        await asyncio.sleep(0)

    async def bounded() -> int:  # a read nothing watches would stall for ever
        return await asyncio.wait_for(stalled_read(), 5)

    asyncio.run(abandoned())
    assert asyncio.run(bounded()) == 408
    assert uvloop.run(bounded()) == 408


async def test_bodies_past_the_unverified_budget_are_503_with_retry_after() -> None:
    door = DoorLimits(max_unverified_bytes=8)
    first = await door.read_body(messages(b"12345"), None, 100)
    busy = await refusal_keeping(door, messages(b"1234"), held=5)
    assert (busy.status, busy.headers) == (503, {"Retry-After": "5"})
    door.release(len(first))
    assert door.held == 0


async def test_a_read_cancelled_midway_gives_its_bytes_back() -> None:
    door = DoorLimits()
    reading = asyncio.create_task(door.read_body(messages(b"part", then="stall"), None, 100))
    while door.held == 0:
        await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert door.held == 0
