"""An operated store on each backend, and `triad` run in-process against it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.cli import main
from bot.store import Store, open_store
from tests.conftest import FakeClock
from tests.llm.conftest import server, session_server  # noqa: F401 (the model server fixtures)
from tests.ops.seed import Seeded, seed
from tests.simulator.conftest import (  # noqa: F401 (the GitHub simulator fixtures)
    installation_id,
    make_sim,
    receiver,
    sim,
)


class Triad:
    """`triad ARGS` with TRIAD_DATABASE_URL pointing at the test's store."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        status = main(list(args))
        captured = self._capsys.readouterr()
        return status, captured.out, captured.err

    def json(self, *args: str) -> Any:
        status, out, err = self(*args, "--json")
        assert status == 0, err
        return json.loads(out)


@pytest.fixture
async def seeded(
    store_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Store, Seeded]]:
    monkeypatch.setenv("TRIAD_DATABASE_URL", store_url)
    async with open_store(store_url, clock=clock) as store:
        yield store, await seed(store)


@pytest.fixture
def triad(capsys: pytest.CaptureFixture[str]) -> Triad:
    return Triad(capsys)
