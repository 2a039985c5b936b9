"""`triad serve | worker`, the operator's commands (`jobs`, `workflows`, `workflow`, `usage`,
`deliveries`, `backup`), and the lab's `demo | simulator` when installed: the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from bot.errors import ConfigError, TriadError
from bot.logs import configure_logging, flush_logs
from bot.ops import commands as operator_commands
from bot.ops.arguments import port, whole_number
from bot.ops.tables import printable
from bot.settings import ServerSettings, Settings, WorkerSettings, load_settings


class _Parser(argparse.ArgumentParser):
    """A bad argument is one `triad: error:` line, like every other mistake."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"triad: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="triad",
        description="Triad: a GitHub App that runs an architect → developer → two-reviewer "
        "workflow on a repository, with humans approving every stage by label.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the webhook server with in-process workers (the embedded default)",
        description="Serve POST /api/github/webhooks and /healthz, and run jobs in this process;"
        " with --admin-port, the admin page, /metrics and /healthz on a second port. Needs "
        "TRIAD_APP_ID, TRIAD_PRIVATE_KEY(_PATH) and TRIAD_WEBHOOK_SECRET.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port, default=3000, help="port to listen on")
    serve.add_argument(
        "--job-concurrency",
        type=whole_number(0, 256, "a number of workers (0 to 256)"),
        default=None,
        help="in-process workers (0: web only, for separate `triad worker` processes); "
        "default TRIAD_WORKER_CONCURRENCY",
    )
    serve.add_argument(
        "--admin-port",
        type=port,
        default=None,
        help="serve /admin, /metrics and /healthz on this port (on TRIAD_ADMIN_HOST); "
        "default TRIAD_ADMIN_PORT, unset: none",
    )
    serve.add_argument(
        "--webhook-proxy",
        metavar="URL",
        default=None,
        help="relay webhooks from this smee.io channel (development; default "
        "TRIAD_WEBHOOK_PROXY_URL)",
    )

    setup = commands.add_parser(
        "setup",
        help="register the GitHub App from app.yml in one click and write .env",
        description="Serve a local page that posts app.yml as a manifest to GitHub's new-App "
        "page (personal account or organization, GitHub Enterprise by URL) and writes the new "
        "App's credentials to .env (mode 0600).",
    )
    setup.add_argument("--host", default="127.0.0.1", help="address to listen on")
    setup.add_argument("--port", type=port, default=3000, help="port to listen on")
    setup.add_argument("--env-file", type=Path, default=Path(".env"), help="where to write")
    setup.add_argument("--manifest", type=Path, default=Path("app.yml"), help="the App manifest")
    setup.add_argument("--github-url", default="https://github.com", help="GitHub's web address")
    setup.add_argument("--api-url", default=None, help="default: derived from --github-url")
    setup.add_argument(
        "--webhook-proxy", metavar="URL", default=None, help="a smee.io channel for the webhooks"
    )
    setup.add_argument("--force", action="store_true", help="replace an existing .env")

    worker = commands.add_parser(
        "worker",
        help="run workers only, sharing the store with the web processes",
        description="Claim and run jobs from the store (use PostgreSQL to run several).",
    )
    worker.add_argument(
        "--concurrency",
        type=whole_number(1, 256, "a number of workers (1 to 256)"),
        default=None,
        help="jobs run at once; default TRIAD_WORKER_CONCURRENCY",
    )
    worker.add_argument(
        "--metrics-port",
        type=port,
        default=None,
        help="serve /healthz, /metrics and /admin on this port (on TRIAD_ADMIN_HOST); "
        "default TRIAD_ADMIN_PORT",
    )

    operator_commands.add_commands(commands)

    lab = _lab_commands()
    if lab is not None:
        lab.add_demo_arguments(
            commands.add_parser(
                "demo",
                help="run Triad on embedded defaults: SQLite, the GitHub simulator, scripted "
                "models",
                description=lab.DEMO_DESCRIPTION,
            )
        )
        lab.add_playground_arguments(
            commands.add_parser(
                "playground",
                help="try Triad by hand in a browser: simulator, models, Triad and a web page",
                description=lab.PLAYGROUND_DESCRIPTION,
            )
        )
        lab.add_simulator_arguments(
            commands.add_parser(
                "simulator",
                help="run the GitHub simulator with the demo repository installed",
                description=lab.SIMULATOR_DESCRIPTION,
            )
        )
    return parser


#: a shell's status for a process ended by SIGPIPE (128 + 13)
_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """`triad ...`; output piped into a reader that stopped early (`| head`) ends quietly."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # inside the guard: a closed pipe fails here, not at exit
    except BrokenPipeError:
        # Python would flush stdout again at exit and fail again: point it at /dev/null
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from triad_lab.simulator import cli as simulator

        return simulator.run(args)
    try:
        if args.command == "setup":
            return _setup(args)
        settings = _settings(args)
        if args.command in operator_commands.COMMANDS:
            return operator_commands.run(args, settings)
        if args.command == "demo":
            from triad_lab import demo

            return demo.run(args, settings)
        if args.command == "playground":
            from triad_lab import playground

            return playground.run(args, settings)
        if args.command == "serve" and _offers_setup(args, settings):
            _configure(settings)
            return _setup(args, settings)
        _configure(settings)
        if args.command == "serve":
            from bot.runtime import serve

            if args.webhook_proxy:
                settings = settings.model_copy(update={"webhook_proxy_url": args.webhook_proxy})
            concurrency = args.job_concurrency
            if concurrency is None:
                concurrency = settings.worker_concurrency
            admin_port = settings.admin_port if args.admin_port is None else args.admin_port
            from bot.web.server import run

            run(serve(settings, args.host, args.port, concurrency, admin_port=admin_port))
        elif args.command == "worker":
            from bot.runtime import work

            concurrency = args.concurrency or settings.worker_concurrency
            metrics_port = settings.admin_port if args.metrics_port is None else args.metrics_port
            asyncio.run(work(settings, concurrency, metrics_port))
    except TriadError as exc:
        flush_logs()  # the error comes last
        # one line, and a stored string in it (a delivery's reason) cannot drive the terminal
        print(f"triad: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """The settings the command runs on, every problem with them named in one ConfigError.

    `triad serve` with no App configured at all may offer the registration page instead.
    """
    kind = {"serve": ServerSettings, "worker": WorkerSettings}.get(args.command, Settings)
    if args.command == "serve":
        with contextlib.suppress(ConfigError):
            settings = load_settings()
            if _offers_setup(args, settings):
                return settings
    return load_settings(kind)


def _offers_setup(args: argparse.Namespace, settings: Settings) -> bool:
    """`triad serve` with no App at all serves the registration page instead, but only on a
    loopback address (never to a network, as in a container on 0.0.0.0) and where app.yml is
    (Triad's checkout); anywhere else the missing settings are an error."""
    from bot.web.same_origin import is_loopback
    from bot.web.setup import read_app_yml

    if settings.app_id is not None or settings.private_key is not None:
        return False
    if settings.webhook_secret or not is_loopback(args.host):
        return False
    try:
        read_app_yml(Path("app.yml"))
    except TriadError:
        return False
    return True


def _setup(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """`triad setup`, or `triad serve` before any App is configured: the registration page."""
    from bot.web.setup import SetupOptions, run_setup

    if settings is None:
        configure_logging("INFO", "auto", [], batch_seconds=0)  # a person is reading
        options = SetupOptions(
            env_file=args.env_file,
            manifest_file=args.manifest,
            github_url=args.github_url.rstrip("/"),
            api_url=args.api_url,
            webhook_proxy_url=args.webhook_proxy,
            overwrite=args.force,
        )
    else:
        options = SetupOptions(
            webhook_proxy_url=args.webhook_proxy or settings.webhook_proxy_url,
            api_url=None
            if settings.github_api_url == "https://api.github.com"
            else settings.github_api_url,
            next_step="restart <code>triad serve</code>",
        )
    flush_logs()
    print(
        f"No GitHub App is configured yet: open http://{args.host}:{args.port}/setup to "
        "register one"
        if settings is not None
        else f"Open http://{args.host}:{args.port}/setup to register the GitHub App",
        file=sys.stderr,
    )
    asyncio.run(run_setup(options, args.host, args.port))
    return 0


def _lab_commands() -> ModuleType | None:
    """The lab's command definitions, when the lab is installed (the production image has none).

    Only its light `commands` module is imported here: `triad --help` must stay fast.
    """
    try:
        return importlib.import_module("triad_lab.commands")
    except ModuleNotFoundError:
        return None


def _configure(settings: Settings) -> None:
    """Logs through the process's one redactor (imported here: `triad --help` stays light)."""
    from bot.llm.config import process_redactor

    configure_logging(
        settings.log_level,
        settings.log_format,
        process_redactor(settings),
        batch_seconds=settings.log_batch_seconds,
    )


if __name__ == "__main__":
    sys.exit(main())
