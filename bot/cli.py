"""`triad serve | worker`, the operator's commands (`jobs`, `workflows`, `workflow`, `usage`,
`deliveries`, `backup`), and the lab's `demo | simulator` when installed: the command line."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from bot.errors import TriadError
from bot.logs import configure_logging
from bot.ops import commands as operator_commands
from bot.settings import Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    serve.add_argument("--port", type=int, default=3000, help="port to listen on")
    serve.add_argument(
        "--job-concurrency",
        type=int,
        default=None,
        help="in-process workers (0: web only, for separate `triad worker` processes); "
        "default TRIAD_WORKER_CONCURRENCY",
    )
    serve.add_argument(
        "--admin-port",
        type=int,
        default=None,
        help="serve /admin, /metrics and /healthz on this port (on TRIAD_ADMIN_HOST); "
        "default TRIAD_ADMIN_PORT, unset: none",
    )

    worker = commands.add_parser(
        "worker",
        help="run workers only, sharing the store with the web processes",
        description="Claim and run jobs from the store (use PostgreSQL to run several).",
    )
    worker.add_argument("--concurrency", type=int, default=None, help="jobs run at once")
    worker.add_argument(
        "--metrics-port",
        type=int,
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
        lab.add_simulator_arguments(
            commands.add_parser(
                "simulator",
                help="run the GitHub simulator with the demo repository installed",
                description=lab.SIMULATOR_DESCRIPTION,
            )
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from triad_lab.simulator import cli as simulator

        return simulator.run(args)
    try:
        settings = load_settings()
        if args.command in operator_commands.COMMANDS:
            return operator_commands.run(args, settings)
        if args.command == "demo":
            from triad_lab import demo

            return demo.run(args, settings)
        settings.require_github_app()
        _configure(settings)
        if args.command == "serve":
            from bot.runtime import serve

            concurrency = args.job_concurrency
            if concurrency is None:
                concurrency = settings.worker_concurrency
            admin_port = args.admin_port or settings.admin_port
            asyncio.run(serve(settings, args.host, args.port, concurrency, admin_port=admin_port))
        elif args.command == "worker":
            from bot.runtime import work

            concurrency = args.concurrency or settings.worker_concurrency
            asyncio.run(work(settings, concurrency, args.metrics_port or settings.admin_port))
    except TriadError as exc:
        print(f"triad: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
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

    configure_logging(settings.log_level, settings.log_format, process_redactor(settings))


if __name__ == "__main__":
    sys.exit(main())
