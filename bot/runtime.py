"""Run Triad's processes: the web app with in-process workers (`serve`) and workers alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bot.github.client import GitHubApp
from bot.jobs import stage_handlers
from bot.llm.config import load_models_file
from bot.llm.prices import PriceTable
from bot.llm.roles import build_models
from bot.metrics import Metrics
from bot.settings import Settings
from bot.stages.services import Services
from bot.store import Store, open_store
from bot.web.app import create_app
from bot.web.context import AppContext
from bot.worker import WorkerPool

log = logging.getLogger(__name__)


def build_services(settings: Settings, store: Store) -> Services:
    """The stages' parts from the settings: the App's GitHub clients and the models."""
    assert settings.app_id is not None and settings.private_key is not None
    per_minute = settings.github_writes_per_minute
    github = GitHubApp(
        settings.app_id,
        settings.private_key.get_secret_value(),
        settings.github_api_url,
        write_interval=60 / per_minute if per_minute else 0,
    )
    config = load_models_file(settings.models_file)
    models = build_models(
        settings,
        store,
        anthropic_base_url=settings.anthropic_base_url,
        openai_base_url=settings.openai_base_url,
        choices=config.choices,
        trusted=config.endpoints,
        prices=PriceTable(config.prices),
    )
    return Services(store=store, github=github, models=models, bot_login=settings.bot_login or "")


def build_pool(settings: Settings, store: Store, metrics: Metrics, concurrency: int) -> WorkerPool:
    return WorkerPool(
        store,
        stage_handlers(),
        metrics,
        concurrency=concurrency,
        lease_seconds=settings.job_lease_seconds,
        drain_seconds=settings.drain_seconds,
        context=build_services(settings, store),
    )


async def serve(
    settings: Settings,
    host: str,
    port: int,
    concurrency: int,
    stop: asyncio.Event | None = None,
    *,
    handle_signals: bool = True,
) -> None:
    """The web app and `concurrency` workers in one process; SIGTERM (or `stop`) drains both."""
    assert settings.webhook_secret is not None
    async with open_store(settings.database_url) as store:
        metrics = Metrics()
        pool = build_pool(settings, store, metrics, concurrency)
        context = AppContext(
            store=store,
            metrics=metrics,
            webhook_secret=settings.webhook_secret.get_secret_value(),
            job_queued=pool.notify,
        )
        config = uvicorn.Config(
            create_app(context),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=int(settings.drain_seconds),
        )
        server = _Server(config)
        stop = stop or asyncio.Event()
        if handle_signals:
            _stop_on_signals(stop)
        if concurrency:
            pool.start()
        watcher = asyncio.create_task(_exit_when_set(server, stop))
        relay = _start_relay(settings, host, port, stop)
        try:
            await server.serve()
        finally:
            watcher.cancel()
            if relay is not None:
                relay.cancel()
            log.info("stopping: draining running jobs", extra={"seconds": settings.drain_seconds})
            await pool.stop()
            await _close(pool)


def _start_relay(
    settings: Settings, host: str, port: int, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """With TRIAD_WEBHOOK_PROXY_URL, feed the channel's deliveries to this server's endpoint."""
    if not settings.webhook_proxy_url:
        return None
    from bot.relay import WebhookRelay

    local = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    target = f"http://{local}:{port}/api/github/webhooks"
    log.info("relaying webhooks from the proxy channel", extra={"target": target})
    return asyncio.create_task(WebhookRelay(settings.webhook_proxy_url, target).run(stop))


async def _close(pool: WorkerPool) -> None:
    models = getattr(pool.context, "models", None)
    if models is not None and hasattr(models, "aclose"):
        await models.aclose()


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would kill the process before
    the workers drain; Triad handles the signals itself instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


async def _exit_when_set(server: uvicorn.Server, stop: asyncio.Event) -> None:
    await stop.wait()
    server.should_exit = True


async def work(settings: Settings, concurrency: int, metrics_port: int | None) -> None:
    """Workers alone, sharing the store with any number of web processes; SIGTERM drains."""
    async with open_store(settings.database_url) as store:
        metrics = Metrics()
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, registry=metrics.registry)
        pool = build_pool(settings, store, metrics, concurrency)
        stop = asyncio.Event()
        _stop_on_signals(stop)
        pool.start()
        await stop.wait()
        log.info("stopping: draining running jobs", extra={"seconds": settings.drain_seconds})
        await pool.stop()
        await _close(pool)
