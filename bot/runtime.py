"""Run Triad's processes: the web app with in-process workers (`serve`) and workers alone.

Each process imports what it runs: a web-only `serve` no model layer or stage, a `worker`
without a metrics port no web framework, and no process a model SDK before its first call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.github.client import GitHubApp
from bot.metrics import Metrics
from bot.retention import prune_periodically
from bot.settings import Settings
from bot.stages.services import Services
from bot.store import Store
from bot.store.configured import configured_store
from bot.worker import WorkerPool

if TYPE_CHECKING:
    from bot.web.server import AppContext, WebServer

log = logging.getLogger(__name__)


def build_github(settings: Settings, metrics: Metrics | None = None) -> GitHubApp:
    """The App's GitHub clients, paced as the settings say."""
    assert settings.app_id is not None and settings.private_key is not None
    per_minute = settings.github_writes_per_minute
    return GitHubApp(
        settings.app_id,
        settings.private_key.get_secret_value(),
        settings.github_api_url,
        write_interval=60 / per_minute if per_minute else 0,
        on_rate_limit=metrics.github_rate_limit if metrics else None,
    )


def build_services(settings: Settings, store: Store, metrics: Metrics | None = None) -> Services:
    """The stages' parts from the settings: the App's GitHub clients and the models."""
    from bot.llm.config import load_models_file
    from bot.llm.models import build_models
    from bot.llm.prices import PriceTable

    github = build_github(settings, metrics)
    config = load_models_file(settings.models_file)
    models = build_models(
        settings,
        store,
        anthropic_base_url=settings.anthropic_base_url,
        openai_base_url=settings.openai_base_url,
        choices=config.choices,
        trusted=config.endpoints,
        prices=PriceTable(config.prices),
        observe=metrics.model_call if metrics else None,
    )
    return Services(store=store, github=github, models=models, bot_login=settings.bot_login or "")


def sweep_seconds(settings: Settings) -> float:
    """How often a process that runs jobs sweeps for work no live job is doing: a few times
    per lease, so a dead worker's undone actions are finished about one lease after it died."""
    return min(max(settings.job_lease_seconds / 3, 1.0), 30.0)


def build_pool(
    settings: Settings, store: Store, metrics: Metrics, concurrency: int
) -> WorkerPool[Services]:
    from bot.jobs import stage_handlers
    from bot.llm.pool import load_sdks
    from bot.workflow.jobs import MODEL_KINDS

    services = build_services(settings, store, metrics)
    return WorkerPool(
        store,
        stage_handlers(),
        metrics,
        concurrency=concurrency,
        lease_seconds=settings.job_lease_seconds,
        drain_seconds=settings.drain_seconds,
        context=services,
        # the SDKs load beside the first jobs: a worker claims work at once, and a model
        # job is claimed once they are there
        warm_up=lambda: load_sdks(services.models.providers()),
        cold_kinds=MODEL_KINDS,
    )


async def serve(
    settings: Settings,
    host: str,
    port: int,
    concurrency: int,
    stop: asyncio.Event | None = None,
    *,
    handle_signals: bool = True,
    admin_port: int | None = None,
) -> None:
    """The web app and `concurrency` workers in one process; SIGTERM (or `stop`) drains both.

    With `admin_port`, the admin page, /metrics and /healthz are served there too.
    """
    assert settings.webhook_secret is not None
    sockets = [listen(host, port, "--port")]
    if admin_port is not None:
        sockets.append(listen(settings.admin_host, admin_port, "--admin-port (TRIAD_ADMIN_PORT)"))
    if concurrency == 0 and settings.database_url.startswith("sqlite:"):
        log.warning(
            "web only on SQLite: no worker in this process will run the jobs it queues; run "
            "`triad worker` on the same SQLite file, or share PostgreSQL (TRIAD_DATABASE_URL)",
            extra={"database": "sqlite"},
        )
    from bot.web.server import create_admin_app, create_app, web_server

    async with configured_store(settings) as store:
        metrics = Metrics()
        pool = build_pool(settings, store, metrics, concurrency) if concurrency else None
        context = _context(settings, store, metrics, pool)
        github = pool.context.github if pool else build_github(settings, metrics)
        learning = asyncio.create_task(_learn_own_login(context, github, settings))
        servers = [web_server(create_app(context), settings)]
        if admin_port is not None:
            servers.append(web_server(create_admin_app(context), settings))
        stop = stop or asyncio.Event()
        if handle_signals:
            _stop_on_signals(stop)
        background = [
            asyncio.create_task(_exit_when_set(servers, stop)),
            asyncio.create_task(prune_periodically(store, settings.delivery_retention_days)),
        ]
        if pool is not None:
            pool.start()
            background.append(asyncio.create_task(_sweep(store, settings)))
        try:
            await asyncio.gather(
                *(
                    server.serve(sockets=[sock])
                    for server, sock in zip(servers, sockets, strict=True)
                )
            )
        finally:
            for task in background:
                task.cancel()
            learning.cancel()
            if pool is not None:
                log.info(
                    "stopping: draining running jobs", extra={"seconds": settings.drain_seconds}
                )
                await pool.stop()
                await _close(pool)


async def _sweep(store: Store, settings: Settings) -> None:
    from bot.stages.recovery import sweep_periodically

    await sweep_periodically(store, sweep_seconds(settings))


async def _learn_own_login(context: AppContext, github: GitHubApp, settings: Settings) -> None:
    """Ask GitHub who Triad is, in the background (the door never waits on GitHub), retrying
    while GitHub cannot say; until then the delivery jobs drop Triad's own events instead."""
    delay = 1.0
    while context.own_login is None:
        if settings.bot_login:
            context.own_login = settings.bot_login
            return
        try:
            context.own_login = await github.own_login()
        except Exception as exc:  # any failure: the door works without it meanwhile
            log.warning("cannot learn Triad's own login yet", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)


def listen(host: str, port: int, what: str) -> socket.socket:
    """A socket bound to `host:port`, or a ConfigError naming the option and the cause (a port
    in use is reported before anything else starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"{what} {port}: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    return sock


def _context(
    settings: Settings, store: Store, metrics: Metrics, pool: WorkerPool[Services] | None
) -> AppContext:
    from bot.ops.reports import github_web_url
    from bot.web.server import AppContext

    return AppContext(
        store=store,
        metrics=metrics,
        webhook_secret=settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else "",
        job_queued=pool.notify if pool else lambda: None,
        admin_token=settings.admin_token.get_secret_value() if settings.admin_token else None,
        github_web_url=github_web_url(settings.github_api_url),
        own_login=settings.bot_login,
    )


async def _close(pool: WorkerPool[Services]) -> None:
    models = pool.context.models
    if models is not None and hasattr(models, "aclose"):
        await models.aclose()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


async def _exit_when_set(servers: list[WebServer], stop: asyncio.Event) -> None:
    await stop.wait()
    for server in servers:
        server.should_exit = True


async def work(settings: Settings, concurrency: int, metrics_port: int | None) -> None:
    """Workers alone, sharing the store with any number of web processes; SIGTERM drains.

    With `metrics_port`, /healthz, /metrics and the admin page are served there.
    """
    sockets = []
    if metrics_port is not None:
        sockets.append(listen(settings.admin_host, metrics_port, "--metrics-port"))
    async with configured_store(settings) as store:
        metrics = Metrics()
        pool = build_pool(settings, store, metrics, concurrency)
        servers: list[WebServer] = []
        if sockets:
            from bot.web.server import create_admin_app, web_server

            app = create_admin_app(_context(settings, store, metrics, pool))
            servers.append(web_server(app, settings))
        stop = asyncio.Event()
        _stop_on_signals(stop)
        pool.start()
        background = [
            asyncio.create_task(_exit_when_set(servers, stop)),
            asyncio.create_task(prune_periodically(store, settings.delivery_retention_days)),
            asyncio.create_task(_sweep(store, settings)),
        ]
        serving = [asyncio.create_task(server.serve(sockets=sockets)) for server in servers]
        try:
            await stop.wait()
        finally:
            log.info("stopping: draining running jobs", extra={"seconds": settings.drain_seconds})
            await pool.stop()
            await _close(pool)
            await asyncio.gather(*serving, return_exceptions=True)
            for task in background:
                task.cancel()
