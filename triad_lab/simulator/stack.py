"""Triad's real server on loopback, wired to the GitHub simulator and the fake model server.

The end-to-end tests and the demo use this: every step goes through signed webhooks, the REST
API and the model SDKs, exactly as in production; only the far ends are simulated.

    async with TriadStack(tmp_path) as stack:
        stack.github.create_repository(...); stack.github.install(...)
        stack.github.add_label(repo, 1, "alice", "triad:design")
        await stack.settle()
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.runtime import serve
from bot.settings import Settings
from bot.store import Job, JobState, Store, open_store
from triad_lab.ports import free_port
from triad_lab.simulator.model_server import FakeModelServer, Responder
from triad_lab.simulator.server import Simulator


class StackError(RuntimeError):
    """The stack did not start or did not settle in time."""


class TriadStack:
    def __init__(
        self,
        workdir: Path,
        *,
        models: Responder | None = None,
        database_url: str | None = None,
        concurrency: int = 2,
        settings: dict[str, Any] | None = None,
        real_models: bool = False,
    ) -> None:
        """`real_models`: ask the real providers (keys from the environment), not the fake."""
        self.workdir = workdir
        self.model_server = FakeModelServer(models)
        self._database_url = database_url or f"sqlite:///{workdir / 'triad.db'}"
        self._concurrency = concurrency
        self._overrides = settings or {}
        self._real_models = real_models
        self._secret = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.github = Simulator(
            webhook_url=f"{self.url}/api/github/webhooks", webhook_secret=self._secret
        )
        self.settings: Settings | None = None
        self.store: Store | None = None
        self._stop = asyncio.Event()
        self._server: asyncio.Task[None] | None = None
        self._store_context: Store | None = None

    async def __aenter__(self) -> TriadStack:
        self.model_server.start()
        self.github.start()
        self.settings = Settings(
            app_id=self.github.app_id,
            private_key=SecretStr(self.github.private_key_pem),
            webhook_secret=SecretStr(self._secret),
            database_url=self._database_url,
            github_api_url=self.github.url,
            anthropic_base_url=None if self._real_models else self.model_server.anthropic_url,
            openai_base_url=None if self._real_models else self.model_server.openai_url,
            github_writes_per_minute=0,
            drain_seconds=5,
            job_outage_retry_seconds=2,  # the lab's injected outages end at once
            **self._overrides,
        )
        self._server = asyncio.create_task(
            serve(
                self.settings,
                "127.0.0.1",
                self.port,
                self._concurrency,
                self._stop,
                handle_signals=False,
            )
        )
        await self._until_healthy()
        self._store_context = open_store(self._database_url)
        self.store = await self._store_context.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._server is not None:
            await asyncio.wait_for(self._server, timeout=30)
        if self._store_context is not None:
            await self._store_context.__aexit__(None, None, None)
        self.github.stop()
        self.model_server.stop()

    async def _until_healthy(self) -> None:
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self._server is not None and self._server.done():
                    self._server.result()  # raises what stopped it
                    raise StackError("Triad's server stopped during start-up")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise StackError("Triad's server did not become healthy within 15 s")

    async def settle(self, timeout: float = 60.0) -> None:
        """Wait until every webhook is answered and every job due now has finished."""
        assert self.store is not None
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while quiet_rounds < 2:
            if time.monotonic() > deadline:
                counts = await self.store.job_counts()
                raise StackError(f"not settled after {timeout:.0f} s: jobs {dict(counts)}")
            sent = len(self.github.deliveries)
            await asyncio.to_thread(self.github.flush, timeout)
            counts = await self.store.job_counts()
            busy = await self._due_soon() + counts[JobState.RUNNING]
            if busy == 0 and len(self.github.deliveries) == sent:
                quiet_rounds += 1
            else:
                quiet_rounds = 0
            await asyncio.sleep(0.05)

    async def _due_soon(self, horizon: float = 60.0) -> int:
        """Queued jobs due within `horizon` s: retries count, a deadline check an hour away
        is not work in progress."""
        assert self.store is not None
        limit = time.time() + horizon
        return sum(1 for job in await self.store.list_jobs(JobState.QUEUED) if job.run_at <= limit)

    async def dead_jobs(self) -> list[Job]:
        assert self.store is not None
        return [job for job in await self.store.list_jobs() if job.state is JobState.DEAD]
