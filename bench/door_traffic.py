"""What everyday traffic that does not concern Triad costs (issue 14): ~400 real example
deliveries (comments with no command, labels that are not Triad's, people's PRs and CI on other
branches, closed issues, pushes that leave `.github/triad.yml` alone) sent through the real
server by the GitHub simulator, once the repository's config is cached. Counts, not timings:
GitHub requests and jobs queued (both should be 0).

    .venv/bin/python bench/door_traffic.py [--count 400] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from triad_lab.simulator import demo_repo
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack
from triad_lab.traffic import Counts, everyday, replay

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "github-webhooks"
REPO = demo_repo.REPOSITORY


async def measure(workdir: Path, count: int) -> Counts:
    async with TriadStack(workdir, models=ScriptedModels()) as stack:
        stack.github.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        installation = stack.github.install(REPO.split("/")[0], [REPO])
        # one command first: its job reads (and caches) the repository's config
        issue = stack.github.open_issue(REPO, demo_repo.OUTSIDER, "Spin is slow")
        stack.github.comment(REPO, issue.number, demo_repo.MAINTAINER, "/triad status")
        await stack.settle()
        people = (demo_repo.OUTSIDER, demo_repo.CONTRIBUTOR, demo_repo.MAINTAINER)
        return await replay(stack, everyday(FIXTURES, REPO, installation, people, count))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counts = asyncio.run(measure(Path(tmp), args.count))
    if args.json:
        print(json.dumps(asdict(counts), indent=2))
        return 0
    per = counts.github_requests / max(counts.deliveries, 1)
    print(f"deliveries sent: {counts.deliveries} (answered: {counts.answered})")
    print(f"GitHub requests: {counts.github_requests} ({per:.2f} per delivery)")
    print(f"jobs queued:     {counts.jobs}")
    for route, n in sorted(counts.routes.items(), key=lambda item: -item[1]):
        print(f"  {n:4d}  {route}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
