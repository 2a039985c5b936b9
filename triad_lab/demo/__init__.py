"""Run the whole Triad workflow on embedded defaults, as a story you can watch.

The real Triad server runs on loopback with a SQLite store; the GitHub simulator holds a small
demo repository and an issue; the fake model server answers with scripted models (or the real
providers with --real-models and API keys). The demo plays the people and CI; every step goes
through signed webhooks and the REST API, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.logs import configure_logging
from bot.settings import Settings
from triad_lab.demo.driver import REPO, DemoDriver
from triad_lab.demo.report import summary, timeline, transitions, write_state
from triad_lab.demo.scenarios import SCENARIOS, Scenario
from triad_lab.simulator import demo_repo
from triad_lab.simulator.stack import TriadStack

DEMO_DIR = Path(".triad/demo")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.list:
        for name, known in SCENARIOS.items():
            print(f"{name:<22} {known.summary}")
        return 0
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        raise ConfigError(
            f"unknown scenario {args.scenario!r}; one of: {', '.join(SCENARIOS)} (see --list)"
        )
    if args.real_models and not (settings.anthropic_api_key and settings.openai_api_key):
        raise ConfigError("--real-models needs ANTHROPIC_API_KEY and OPENAI_API_KEY")
    configure_logging("ERROR", "text", settings.secret_values())
    state_dir = DEMO_DIR / scenario.name
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    try:
        return asyncio.run(_play(scenario, state_dir, as_json=args.json, real=args.real_models))
    except KeyboardInterrupt:
        return 130


@dataclass(frozen=True)
class DemoResult:
    report: dict[str, Any]
    #: the simulated GitHub at the end (also written to <state dir>/github.json)
    github: dict[str, Any]
    timeline: list[str]


async def play(
    scenario: Scenario,
    state_dir: Path,
    *,
    real: bool = False,
    say: Callable[[str], None] = lambda _line: None,
) -> DemoResult:
    """Play `scenario` on a fresh stack whose state is kept in `state_dir`."""
    started_at = time.time()
    say(f"Triad demo: {scenario.name} — {scenario.summary}")
    async with TriadStack(state_dir, models=scenario.models(), real_models=real) as stack:
        stack.github.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        stack.github.install(REPO.split("/")[0], [REPO])
        driver = DemoDriver(stack, say)
        driver.open_issue()
        await stack.settle()
        where = "the real providers" if real else stack.model_server.url
        say(f"Triad at {stack.url}, GitHub simulator at {stack.github.url}, models at {where}")
        say(f"Issue #{driver.issue} opened on {REPO}: {demo_repo.ISSUE_TITLE}\n")
        ok = await scenario.play(driver)
        report = await summary(driver, scenario.name, ok, state_dir, started_at)
        write_state(stack.github, state_dir)
        history = await transitions(driver)
    github = json.loads((state_dir / "github.json").read_text())
    return DemoResult(report, github, timeline(history, started_at))


async def _play(scenario: Scenario, state_dir: Path, *, as_json: bool, real: bool) -> int:
    def say(line: str) -> None:
        if not as_json:
            print(line, flush=True)

    result = await play(scenario, state_dir, real=real, say=say)
    report, state = result.report, result.github
    if as_json:
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    say("\nTimeline:")
    for line in result.timeline:
        say(line)
    say("\nWhat Triad made on GitHub:")
    for issue in state["issues"]:
        kind = "PR" if issue["is_pull_request"] else "issue"
        mine = sum(1 for c in issue["comments"] if c["author"].endswith("[bot]"))
        say(
            f"  {kind} #{issue['number']} {issue['title']!r}: labels {issue['labels']}, "
            f"{mine} comment(s) by Triad"
        )
    for pr in state["pull_requests"]:
        say(
            f"  PR #{pr['number']} on {pr['head']}: {len(pr['commits'])} commit(s), "
            f"{'draft' if pr['draft'] else 'ready for review'}"
        )
    say(f"  {len(state['reviews'])} review(s), {len(state['review_comments'])} inline comment(s)")
    for run in state["check_runs"]:
        if run["app"] != "github-actions":
            say(f"  check run {run['name']!r} on {run['head_sha'][:7]}: {run['conclusion']}")
    for role, figures in report["usage_by_role"].items():
        say(
            f"  {role:<12} {figures['calls']:>3} call(s) {figures['tokens']:>8,} tokens  "
            f"${figures['cost']:.3f}"
        )
    if any(report["problems"].values()):
        say(f"\nProblems: {report['problems']}")
    say("\nGates:")
    for gate, held in report["gates"].items():
        say(f"  {'✓' if held else '✗'} {gate}")
    say(
        f"\nState: {report['state']['github']} (the simulated GitHub), "
        f"{report['state']['database']} (Triad's store)."
    )
    say("Result: " + ("the story completed as scripted." if report["ok"] else "FAILED."))
    return 0 if report["ok"] else 1
