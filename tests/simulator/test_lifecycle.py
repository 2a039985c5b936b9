"""Starting and stopping the simulator: nothing leaks, and nothing is sent after the end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn

from triad_lab.simulator.server import Simulator


class SpySocket(socket.socket):
    made: ClassVar[list[socket.socket]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        SpySocket.made.append(self)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    SpySocket.made = []
    monkeypatch.setattr("triad_lab.simulator.server.socket.socket", SpySocket)
    return SpySocket.made


def test_a_busy_port_fails_the_start_and_closes_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        SpySocket.made = []
        monkeypatch.setattr("triad_lab.simulator.server.socket.socket", SpySocket)
        sim = Simulator(port=busy.getsockname()[1])
        with pytest.raises(OSError):
            sim.start()
        monkeypatch.undo()
    assert [s.fileno() for s in SpySocket.made] == [-1]
    sim.stop()  # safe after a failed start


def test_a_server_that_does_not_start_leaks_nothing(
    spy: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (uvicorn calls run(sockets=...) by keyword)
    monkeypatch.setattr(uvicorn.Server, "run", lambda _self, sockets=None: None)  # noqa: ARG005
    sim = Simulator()
    with pytest.raises(RuntimeError, match="did not start"):
        sim.start()
    assert [s.fileno() for s in spy] == [-1]
    with pytest.raises(TimeoutError):  # the webhook sender never started
        sim.flush(timeout=0.1)


def test_stop_closes_the_api_before_the_webhook_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulator().start()
    url = sim.url
    answered_while_sender_stopped: list[bool] = []
    real_stop = sim.sender.stop

    def stop_sender() -> None:
        try:
            httpx.get(f"{url}/app", timeout=0.5)
            answered_while_sender_stopped.append(True)
        except httpx.TransportError:
            answered_while_sender_stopped.append(False)
        real_stop()

    monkeypatch.setattr(sim.sender, "stop", stop_sender)
    sim.stop()
    assert answered_while_sender_stopped == [False]


SCRIPT = """
from triad_lab.simulator.world import World
sent = []
world = World()
world.emit = lambda event, payload: sent.append((event, payload))
world.create_repository("acme/widgets", {"a.txt": "a\\n"})
world.install("acme", ["acme/widgets"])
sha = world.push("acme/widgets", "x", "carol", {"b.txt": "b\\n"}, "b")
world.complete_check_suite("acme/widgets", sha, "success", workflow="Tests")
from triad_lab.simulator import render
repo = world.repo("acme/widgets")
run = [p for e, p in sent if e == "workflow_run"][0]
print(run["workflow"]["id"], render.ref(world.urls, repo, "refs/heads/x", sha)["node_id"])
"""


def test_ids_derived_from_names_are_the_same_in_every_process() -> None:
    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=root,
            env=os.environ | {"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
