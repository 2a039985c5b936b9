"""`triad simulator`: the GitHub simulator as a process, for trying Triad by hand."""

from __future__ import annotations

import argparse
import secrets
import signal
import threading

from triad_lab.simulator import demo_repo
from triad_lab.simulator.server import Simulator


def setup_command(url: str) -> str:
    """The `triad setup` that registers an App on the simulator at `url`."""
    return f"triad setup --github-url {url}/web --api-url {url}"


def run(args: argparse.Namespace) -> int:
    secret = args.webhook_secret or secrets.token_hex(16)
    github = Simulator(
        webhook_url=args.webhook_url, webhook_secret=secret, host=args.host, port=args.port
    )
    github.start()
    github.create_repository(
        demo_repo.REPOSITORY, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS
    )
    owner = demo_repo.REPOSITORY.split("/")[0]
    github.install(owner, [demo_repo.REPOSITORY])
    args.key_file.parent.mkdir(parents=True, exist_ok=True)
    args.key_file.write_text(github.private_key_pem)
    args.key_file.chmod(0o600)
    print(f"GitHub simulator at {github.url}, sending webhooks to {args.webhook_url}", flush=True)
    print(f"Repository {demo_repo.REPOSITORY} is installed. Run Triad against it with:")
    print(f"  TRIAD_APP_ID={github.app_id} TRIAD_PRIVATE_KEY_PATH={args.key_file} \\")
    print(f"  TRIAD_WEBHOOK_SECRET={secret} TRIAD_GITHUB_API_URL={github.url} triad serve")
    print("Or register an App on it from app.yml, as on GitHub (its pages are under /web):")
    print(f"  {setup_command(github.url)}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        github.stop()
    return 0
