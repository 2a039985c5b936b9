"""Run Triad's processes: the web app with in-process workers (`serve`) and workers alone.

Each process imports what it runs: a `worker` without a metrics port no web framework, and the
model SDKs beside its first jobs (issue 18: workers start fast); `serve` with workers imports
them before it answers its first request (an import holds the GIL: requests would wait on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.github.client import GitHubApp
from bot.metrics import Metrics
from bot.repo_config import BudgetCap
from bot.retention import prune_periodically
from bot.settings import MIN_ADMIN_TOKEN, Settings
from bot.stages.services import Services
from bot.store import Store
from bot.store.configured import configured_store
from bot.worker import WorkerPool

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.relay import RelayTask
    from bot.web.context import AppContext
    from bot.web.server import WebServer

log = logging.getLogger(__name__)
#: uvicorn's own default
_BACKLOG = 2048


def build_services(settings: Settings, store: Store, metrics: Metrics | None = None) -> Services:
    """The stages' parts from the settings: the App's GitHub clients and the models, both
    writing through the process's one redactor."""
    from bot.llm.config import load_models_file, process_redactor
    from bot.llm.models import build_models
    from bot.llm.prices import PriceTable

    assert settings.app_id is not None and settings.private_key is not None
    per_minute = settings.github_writes_per_minute
    redactor = process_redactor(settings)
    github = GitHubApp(
        settings.app_id,
        settings.private_key.get_secret_value(),
        settings.github_api_url,
        write_interval=60 / per_minute if per_minute else 0,
        on_rate_limit=metrics.github_rate_limit if metrics else None,
        redact=redactor.text,
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
        observe=metrics.model_call if metrics else None,
        redactor=redactor,
        allowed=config.allowed,
    )
    return Services(
        store=store,
        github=github,
        models=models,
        bot_login=settings.bot_login or "",
        budget_cap=BudgetCap(settings.max_workflow_tokens, settings.max_workflow_dollars),
    )


def sweep_seconds(settings: Settings) -> float:
    """How often a process that runs jobs sweeps for work no live job is doing: a few times
    per lease, so a dead worker's undone actions are finished about one lease after it died
    (TRIAD_SWEEP_SECONDS overrides it; 0: no sweep)."""
    if settings.sweep_seconds is not None:
        return settings.sweep_seconds
    return min(max(settings.job_lease_seconds / 3, 1.0), 30.0)


def build_pool(
    settings: Settings, store: Store, metrics: Metrics, concurrency: int
) -> WorkerPool[Services]:
    from bot.jobs import stage_handlers
    from bot.workflow.jobs import MODEL_KINDS

    services = build_services(settings, store, metrics)
    return WorkerPool(
        store,
        stage_handlers(),
        metrics,
        concurrency=concurrency,
        lease_seconds=settings.job_lease_seconds,
        drain_seconds=settings.drain_seconds,
        outage_seconds=settings.job_outage_retry_seconds,
        context=services,
        # the SDKs load beside the first jobs: a worker claims work at once, and a model
        # job is claimed once they are there
        warm_up=lambda: _warm(services),
        cold_kinds=MODEL_KINDS,
    )


def _warm(services: Services) -> None:
    """What jobs would otherwise load at their first use, in a thread (`WorkerPool.warm`)."""
    from bot.llm.pool import load_sdks

    services.github.warm()
    load_sdks(services.models.providers())


async def _sweep(store: Store, settings: Settings) -> None:
    from bot.stages.recovery import sweep_periodically

    seconds = sweep_seconds(settings)
    if seconds == 0:
        log.warning("the sweep is off (TRIAD_SWEEP_SECONDS=0): only events finish undone work")
        return
    await sweep_periodically(store, seconds)


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
    if admin_port is not None:
        require_admin_guard(settings)
    sockets = [listen(host, port, "--port")]
    if admin_port is not None:
        sockets.append(listen(settings.admin_host, admin_port, "--admin-port (TRIAD_ADMIN_PORT)"))
    if concurrency == 0 and settings.database_url.startswith("sqlite:"):
        log.warning(
            "web only on SQLite: no worker in this process will run the jobs it queues; run "
            "`triad worker` on the same SQLite file, or share PostgreSQL (TRIAD_DATABASE_URL)",
            extra={"database": "sqlite"},
        )
    async with configured_store(settings) as store:
        metrics = Metrics()
        pool = build_pool(settings, store, metrics, concurrency)
        context = _context(settings, store, metrics)
        learning = asyncio.create_task(_learn_own_login(context, pool.context))
        servers = web_servers(context, settings, admin=admin_port is not None)
        stop = stop or asyncio.Event()
        if handle_signals:
            _stop_on_signals(stop)
        sweeping = None
        if concurrency:
            await pool.warm()  # before the first request: see `WorkerPool.warm`
            pool.start()
            sweeping = asyncio.create_task(_sweep(store, settings))
        stopping = asyncio.create_task(_stop_when_set(stop, servers, pool))
        pruning = asyncio.create_task(prune_periodically(store, settings.delivery_retention_days))
        relay = _start_relay(settings, host, port, stop)
        try:
            await asyncio.gather(
                *(
                    server.serve(sockets=[sock])
                    for server, sock in zip(servers, sockets, strict=True)
                )
            )
        finally:
            stop.set()
            await stopping
            pruning.cancel()
            learning.cancel()
            if relay is not None:
                relay.cancel()
            if sweeping is not None:
                sweeping.cancel()
            await _close(pool)


async def _learn_own_login(context: AppContext, services: Services) -> None:
    """Ask GitHub who Triad is, in the background (the door never waits on GitHub), retrying
    while GitHub cannot say; until then the delivery jobs drop Triad's own events instead."""
    delay = 1.0
    while context.own_login is None:
        try:
            context.own_login = await services.own_login()
        except Exception as exc:  # any failure: the door works without it meanwhile
            log.warning("cannot learn Triad's own login yet", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)


def listen(host: str, port: int, what: str) -> socket.socket:
    """A socket listening on `host:port`, or a ConfigError naming the option and the cause (a
    port in use, also by this process's other port, is reported before anything else starts:
    SO_REUSEADDR lets two sockets bind one port, only `listen` refuses the second).

    An IPv6 address listens dual-stack: "::" also accepts IPv4 (fly's private network is IPv6
    only, a local `curl 127.0.0.1` is IPv4), whatever the system's `bindv6only` default."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:
        sock.bind((host, port))
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"{what} {port}: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    return sock


def require_admin_guard(settings: Settings) -> None:
    """The admin page and /metrics listen beyond loopback only behind TRIAD_ADMIN_TOKEN, one
    too long to guess (its sign-in form answers as fast as it is asked)."""
    if _is_loopback(settings.admin_host):
        return
    where = f"TRIAD_ADMIN_HOST is {settings.admin_host or '(every address)'}, beyond loopback"
    advice = "set TRIAD_ADMIN_TOKEN (e.g. `openssl rand -hex 32`) or TRIAD_ADMIN_HOST=127.0.0.1"
    if settings.admin_token is None:
        raise ConfigError(
            f"{where}, and TRIAD_ADMIN_TOKEN is not set: the admin page and /metrics would be "
            f"open to anyone who reaches the port; {advice}"
        )
    token = settings.admin_token.get_secret_value().strip()
    # printable ASCII: sixteen zero-width spaces are sixteen characters, and no secret
    if len(token) < MIN_ADMIN_TOKEN or not (token.isascii() and token.isprintable()):
        raise ConfigError(
            f"{where}, and TRIAD_ADMIN_TOKEN is too weak ({len(token)} characters, at least "
            f"{MIN_ADMIN_TOKEN} printable ASCII ones needed): anyone who reaches the port could"
            f" guess it; {advice}"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name that may resolve anywhere, or "" (every address)
        return False


def web_servers(context: AppContext, settings: Settings, *, admin: bool) -> list[WebServer]:
    """The webhook port's server, then the admin port's when `admin`: only the admin port
    reads a trusted proxy's X-Forwarded-* headers (`web_config`)."""
    from bot.web.app import create_app
    from bot.web.door import door_protocol
    from bot.web.server import WebServer, web_config

    webhook_config = web_config(create_app(context), settings, proxy_headers=False)
    webhook_config.http = door_protocol(context.door)
    servers = [WebServer(webhook_config)]
    if admin:
        servers.append(WebServer(web_config(_admin_app(context, settings), settings)))
    return servers


def _admin_app(context: AppContext, settings: Settings) -> FastAPI:
    from bot.web.app import create_admin_app

    return create_admin_app(context, allowed_hosts=settings.admin_allowed_hosts)


def _context(settings: Settings, store: Store, metrics: Metrics) -> AppContext:
    from bot.ops.reports import github_web_url
    from bot.web.context import AppContext
    from bot.web.door import DoorLimits

    return AppContext(
        store=store,
        metrics=metrics,
        webhook_secret=settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else "",
        admin_token=settings.admin_token.get_secret_value() if settings.admin_token else None,
        github_web_url=github_web_url(settings.github_api_url),
        own_login=settings.bot_login,
        door=DoorLimits(
            read_seconds=settings.webhook_read_seconds,
            max_unverified_bytes=settings.webhook_max_unverified_bytes,
            max_connections=settings.webhook_max_connections,
        ),
    )


def _start_relay(settings: Settings, host: str, port: int, stop: asyncio.Event) -> RelayTask | None:
    """With TRIAD_WEBHOOK_PROXY_URL, feed the channel's deliveries to this server's endpoint."""
    if not settings.webhook_proxy_url:
        return None
    from bot.relay import RelayTask, WebhookRelay, relay_target

    target = relay_target(host, port)
    log.info("relaying webhooks from the proxy channel", extra={"target": target})
    return RelayTask(WebhookRelay(settings.webhook_proxy_url, target), stop)


async def _close(pool: WorkerPool[Services]) -> None:
    """Close the process's pooled clients: GitHub's and each model provider's."""
    await pool.context.github.aclose()
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


async def _stop_when_set(
    stop: asyncio.Event, servers: list[WebServer], pool: WorkerPool[Services]
) -> None:
    """On the stop signal the servers finish their requests while the workers stop claiming
    and drain, both at once: stopping takes the drain time once, not twice."""
    await stop.wait()
    log.info("stopping: draining running jobs", extra={"seconds": pool.drain_seconds})
    for server in servers:
        server.should_exit = True
    await pool.stop()


async def work(settings: Settings, concurrency: int, metrics_port: int | None) -> None:
    """Workers alone, sharing the store with any number of web processes; SIGTERM drains.

    With `metrics_port`, /healthz, /metrics and the admin page are served there.
    """
    sockets = []
    if metrics_port is not None:
        require_admin_guard(settings)
        sockets.append(listen(settings.admin_host, metrics_port, "--metrics-port"))
    async with configured_store(settings) as store:
        metrics = Metrics()
        pool = build_pool(settings, store, metrics, concurrency)
        servers: list[WebServer] = []
        if sockets:
            from bot.web.server import WebServer, web_config

            app = _admin_app(_context(settings, store, metrics), settings)
            servers.append(WebServer(web_config(app, settings)))
        stop = asyncio.Event()
        _stop_on_signals(stop)
        pool.start()
        background = [
            asyncio.create_task(_exit_when_set(servers, stop)),
            asyncio.create_task(prune_periodically(store, settings.delivery_retention_days)),
            asyncio.create_task(_sweep(store, settings)),
            *(asyncio.create_task(server.serve(sockets=sockets)) for server in servers),
        ]
        try:
            await stop.wait()
        finally:
            log.info("stopping: draining running jobs", extra={"seconds": settings.drain_seconds})
            await pool.stop()
            await _close(pool)
            # the servers end on their own once told to; the periodic tasks are cancelled
            await asyncio.gather(*background[3:], return_exceptions=True)
            for task in background[:3]:
                task.cancel()
