"""Run Triad on embedded defaults: a SQLite store and a generated webhook secret.

The scripted end-to-end demo (GitHub simulator, scripted models, every stage and gate) is not
built yet. Until then this command starts the real server, proves the ingest path with one
signed delivery, and waits for webhooks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import uuid
from pathlib import Path

import httpx

from bot.github.signature import sign
from bot.logs import configure_logging
from bot.runtime import serve
from bot.settings import Settings

DEMO_DIR = Path(".triad")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument(
        "--no-wait", action="store_true", help="exit after the ingest check instead of serving"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    DEMO_DIR.mkdir(exist_ok=True)
    secret = secrets.token_hex(16)
    demo_settings = settings.model_copy(
        update={
            "database_url": f"sqlite:///{DEMO_DIR / 'demo.db'}",
            "webhook_secret": settings.webhook_secret or _secret(secret),
        }
    )
    configure_logging("WARNING", "text", demo_settings.secret_values())
    port = args.port or _free_port()
    try:
        return asyncio.run(_demo(demo_settings, port, wait=not args.no_wait))
    except KeyboardInterrupt:
        return 0


async def _demo(settings: Settings, port: int, wait: bool) -> int:
    assert settings.webhook_secret is not None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, "127.0.0.1", port, concurrency=2, stop=stop))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        await _until_healthy(client, server)
        print(f"Triad is serving at {url} (store: {settings.database_url})")
        answer = await _send_labeled_issue(client, settings.webhook_secret.get_secret_value())
        print(f"  a signed issues.labeled delivery → HTTP {answer.status_code} {answer.json()}")
        metrics = (await client.get("/metrics")).text
        print("  " + next(line for line in metrics.splitlines() if "_total{" in line))
    print(
        "Waiting for: the GitHub simulator, the scripted models and the architect, developer and "
        "reviewer stages, which this command will play end to end once they land.\n"
        f"Meanwhile it accepts GitHub webhooks at {url}/api/github/webhooks "
        f"(secret: {_shown_secret(settings)}). Ctrl-C stops."
    )
    if not wait:
        stop.set()
    await server
    return 0


async def _until_healthy(client: httpx.AsyncClient, server: asyncio.Task[None]) -> None:
    for _ in range(200):
        if server.done():
            server.result()
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not become healthy")


async def _send_labeled_issue(client: httpx.AsyncClient, secret: str) -> httpx.Response:
    user = {"login": "octocat", "id": 1, "type": "User"}
    repository = {"id": 1, "name": "demo", "full_name": "octocat/demo", "owner": user}
    payload = {
        "action": "labeled",
        "issue": {"number": 1, "title": "Add a greeting", "user": user, "labels": []},
        "label": {"name": "triad:design"},
        "repository": repository,
        "sender": user,
        "installation": {"id": 1},
    }
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
    }
    return await client.post("/api/github/webhooks", content=body, headers=headers)


def _shown_secret(settings: Settings) -> str:
    """The generated secret is a throwaway and may be shown; a configured one never is."""
    if "TRIAD_WEBHOOK_SECRET" in os.environ:
        return "TRIAD_WEBHOOK_SECRET"
    assert settings.webhook_secret is not None
    return settings.webhook_secret.get_secret_value()


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
