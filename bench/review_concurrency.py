"""Review stage wall time against its two reviewers' own times, measured in the same run.

Runs Triad's real server with the GitHub simulator and the fake model server; each reviewer's
answer is delayed (reviewer A by --a seconds, reviewer B by --b). The stage's wall time (from
the transition into `reviewing` to the one out of it) is printed beside the slower reviewer's
delay and the sum of both: run concurrently, it should be close to the first, not the second.

    .venv/bin/python bench/review_concurrency.py --a 0.6 --b 1.0 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.store.workflows import WorkflowStore
from triad_lab.simulator import demo_repo
from triad_lab.simulator.model_server import ModelRequest, Responder, ScriptItem, slow
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

REPO = demo_repo.REPOSITORY


def delayed(a: float, b: float) -> Responder:
    scripted = ScriptedModels()

    def respond(request: ModelRequest) -> ScriptItem:
        answer = scripted(request)
        if request.schema_name == "ReviewAnswer":
            # reviewer A is the one on Anthropic (the default choices)
            return slow(a if request.api == "anthropic" else b, answer)
        return answer

    return respond


async def one_round(a: float, b: float) -> float:
    with tempfile.TemporaryDirectory() as workdir:
        async with TriadStack(Path(workdir), models=delayed(a, b)) as stack:
            github = stack.github
            github.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
            github.install(REPO.split("/")[0], [REPO])
            issue = github.open_issue(REPO, "carol", demo_repo.ISSUE_TITLE, demo_repo.ISSUE_BODY)
            for label in ("triad:design", "triad:approved"):
                github.add_label(REPO, issue.number, "alice", label)
                await stack.settle()
            assert stack.store is not None
            workflows = WorkflowStore(stack.store)
            workflow = await workflows.get(REPO, issue.number)
            assert workflow is not None and workflow.head_sha
            github.complete_checks(REPO, workflow.head_sha, "success")
            await stack.settle()
            history = await workflows.history(REPO, issue.number)
            start = next(t.at for t in history if t.to_stage == "reviewing")
            end = next(
                t.at for t in history if t.from_stage == "reviewing" and t.to_stage != "reviewing"
            )
            return end - start


async def main(a: float, b: float, rounds: int) -> None:
    walls = [await one_round(a, b) for _ in range(rounds)]
    wall = statistics.median(walls)
    slower, both = max(a, b), a + b
    print(f"reviewer A answers after {a:.2f}s, reviewer B after {b:.2f}s ({rounds} rounds)")
    print(f"review stage wall time (median): {wall:.3f}s  [{', '.join(f'{w:.3f}' for w in walls)}]")
    print(f"slower reviewer: {slower:.3f}s   both in sequence: {both:.3f}s")
    print(f"wall / slower reviewer = {wall / slower:.2f}   wall / sequential = {wall / both:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=float, default=0.6, help="reviewer A's delay (s)")
    parser.add_argument("--b", type=float, default=1.0, help="reviewer B's delay (s)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.a, args.b, args.rounds))
