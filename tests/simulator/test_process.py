"""`triad simulator` runs as its own process, serves the real client, and prints the exact
commands that point Triad at it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from bot.github.client import GitHubApp
from triad_lab.ports import free_port


async def test_the_simulator_process_serves_the_demo_repository(tmp_path: Path) -> None:
    port, key = free_port(), tmp_path / "app.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "simulator", "--port", str(port), "--key-file", str(key)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(6)]
        assert printed[0].startswith(f"GitHub simulator at http://127.0.0.1:{port}")
        url = f"http://127.0.0.1:{port}"
        assert printed[5].strip() == f"triad setup --github-url {url}/web --api-url {url}"
        app = GitHubApp(1, key.read_text(), f"http://127.0.0.1:{port}")
        found = await app.as_app().rest.apps.async_get_repo_installation("acme", "widgets")
        repo = await app.installation(found.parsed_data.id).rest.repos.async_get("acme", "widgets")
        assert repo.parsed_data.full_name == "acme/widgets"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
