"""`triad playground`: drive the whole workflow by hand, as any person of a repository.

One command starts the GitHub simulator holding the demo repository (and one issue), the fake
model server with the playground's scripted models (the real providers when both keys are
set), Triad's real server, and a web page where a person opens issues, labels, comments,
marks CI passed or failed, and watches the workflow's stage and cost change live.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import uvicorn

from bot.logs import configure_logging
from bot.settings import Settings
from triad_lab.playground.app import Playground, create_playground_app
from triad_lab.playground.models import PlaygroundModels
from triad_lab.simulator import demo_repo
from triad_lab.simulator.stack import TriadStack

STATE_DIR = Path(".triad/playground")


async def play(
    *,
    host: str,
    port: int,
    state_dir: Path,
    real_models: bool,
    stop: asyncio.Event,
    ready: Callable[[str, TriadStack], None] = lambda _url, _stack: None,
) -> None:
    """Run the stack and the page until `stop` is set; `ready(url, stack)` once serving."""
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    async with TriadStack(state_dir, models=PlaygroundModels(), real_models=real_models) as stack:
        repo = demo_repo.REPOSITORY
        stack.github.create_repository(repo, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        stack.github.install(repo.split("/")[0], [repo])
        stack.github.open_issue(
            repo, demo_repo.CONTRIBUTOR, demo_repo.ISSUE_TITLE, demo_repo.ISSUE_BODY
        )
        assert stack.store is not None
        page = create_playground_app(
            Playground(stack.github.url, repo, stack.store, demo_repo.MAINTAINER, host=host)
        )
        config = uvicorn.Config(page, host=host, port=port, log_config=None, access_log=False)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("the playground page did not start")
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()[1]
        ready(f"http://{host}:{bound}", stack)
        with contextlib.suppress(asyncio.CancelledError):
            await stop.wait()
        server.should_exit = True
        await serving


def run(args: argparse.Namespace, settings: Settings) -> int:
    real = bool(settings.anthropic_api_key and settings.openai_api_key) and not args.scripted
    configure_logging("ERROR", "text", settings.secret_values())

    def ready(url: str, stack: TriadStack) -> None:
        models = "the real providers" if real else "scripted models"
        print(f"Triad playground at {url}  (Ctrl-C stops it)", flush=True)
        print(
            f"  GitHub simulator {stack.github.url}, Triad {stack.url}, {models}; people: "
            + ", ".join(f"{k} ({v})" for k, v in demo_repo.COLLABORATORS.items()),
            flush=True,
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await play(
            host=args.host,
            port=args.port,
            state_dir=args.state_dir,
            real_models=real,
            stop=stop,
            ready=ready,
        )

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 130
    return 0
