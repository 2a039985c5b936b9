"""`triad serve | worker | demo | simulator`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.errors import TriadError
from bot.logs import configure_logging
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
        description="Serve POST /api/github/webhooks, /healthz and /metrics, and run jobs in "
        "this process. Needs TRIAD_APP_ID, TRIAD_PRIVATE_KEY(_PATH) and TRIAD_WEBHOOK_SECRET.",
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

    worker = commands.add_parser(
        "worker",
        help="run workers only, sharing the store with the web processes",
        description="Claim and run jobs from the store (use PostgreSQL to run several).",
    )
    worker.add_argument("--concurrency", type=int, default=None, help="jobs run at once")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve /metrics here")

    from bot import demo

    demo.add_arguments(
        commands.add_parser(
            "demo",
            help="run Triad on embedded defaults: SQLite, the GitHub simulator, scripted models",
            description=demo.__doc__,
        )
    )
    from bot.simulator import cli as simulator

    simulator.add_arguments(
        commands.add_parser(
            "simulator",
            help="run the GitHub simulator with the demo repository installed",
            description=simulator.__doc__,
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from bot.simulator import cli as simulator

        return simulator.run(args)
    try:
        settings = load_settings()
        if args.command == "demo":
            from bot import demo

            return demo.run(args, settings)
        settings.require_github_app()
        _configure(settings)
        if args.command == "serve":
            from bot.runtime import serve

            concurrency = args.job_concurrency
            if concurrency is None:
                concurrency = settings.worker_concurrency
            asyncio.run(serve(settings, args.host, args.port, concurrency))
        elif args.command == "worker":
            from bot.runtime import work

            concurrency = args.concurrency or settings.worker_concurrency
            asyncio.run(work(settings, concurrency, args.metrics_port))
    except TriadError as exc:
        print(f"triad: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _configure(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())


if __name__ == "__main__":
    sys.exit(main())
