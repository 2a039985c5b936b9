"""The lab's commands for `triad`: their arguments here, their code imported only when run.

`bot.cli` reads this module to build `triad --help`, so it imports nothing heavy.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario", default="full", help="the story to play (default: full; see --list)"
    )
    parser.add_argument("--list", action="store_true", help="name the scenarios and exit")
    parser.add_argument(
        "--json", action="store_true", help="print one machine-readable summary instead"
    )
    parser.add_argument(
        "--real-models",
        action="store_true",
        help="ask the real providers (needs ANTHROPIC_API_KEY and OPENAI_API_KEY)",
    )


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=3001, help="port to listen on")
    parser.add_argument(
        "--webhook-url",
        default="http://127.0.0.1:3000/api/github/webhooks",
        help="where to send webhooks (Triad's endpoint)",
    )
    parser.add_argument("--webhook-secret", default=None, help="default: a new random secret")
    parser.add_argument(
        "--key-file",
        type=Path,
        default=Path(".triad/simulator-app.pem"),
        help="where to write the simulated App's private key",
    )


def add_playground_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address of the page")
    parser.add_argument("--port", type=int, default=3100, help="port of the page")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".triad/playground"),
        help="where the store and state live (emptied at start)",
    )
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="scripted models even when ANTHROPIC_API_KEY and OPENAI_API_KEY are set",
    )


DEMO_DESCRIPTION = (
    "Run the whole Triad workflow on embedded defaults, as a story you can watch: the real "
    "Triad server on loopback with a SQLite store, the GitHub simulator holding a small demo "
    "repository and an issue, and the fake model server answering with scripted models (or the "
    "real providers with --real-models and API keys). The demo plays the people and CI; every "
    "step goes through signed webhooks and the REST API, as in production."
)
SIMULATOR_DESCRIPTION = "The GitHub simulator as a process, for trying Triad by hand."
PLAYGROUND_DESCRIPTION = (
    "Try Triad by hand: the GitHub simulator with the demo repository and an issue, the fake "
    "model server (scripted models; the real providers when ANTHROPIC_API_KEY and "
    "OPENAI_API_KEY are set), Triad's real server, and a web page where you act as the "
    "repository's maintainer, contributor or outsider: open issues, label, comment (/triad "
    "commands), mark CI passed or failed, and watch the stage and cost live."
)
