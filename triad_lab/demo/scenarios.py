"""The stories `triad demo` plays: each a list of people's actions and what must follow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.github.markers import carries
from bot.workflow.model import Stage
from triad_lab.demo.driver import REPO, DemoDriver
from triad_lab.demo.models import CORE, FIXED, TESTS, DemoModels
from triad_lab.simulator import demo_repo
from triad_lab.simulator.model_server import FakeModelServer, overloaded

MAINTAINER, OUTSIDER = demo_repo.MAINTAINER, demo_repo.OUTSIDER
CONTRIBUTOR = demo_repo.CONTRIBUTOR
CI_FAILURE = (
    "============================= test session starts ==============================\n"
    "tests/test_core.py .F.\n"
    "    def test_spin_backwards():\n"
    ">       assert spin(3, reverse=True) == -4\n"
    "E       assert 2 == -4\n"
    "=========================== 1 failed, 2 passed in 0.02s ========================\n"
)
ANSWER = "Negative turns should raise a ValueError; they are a caller's mistake.\n/triad revise"


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    play: Callable[[DemoDriver], Awaitable[bool]]
    reviewer_b_objects: bool = False

    def models(self) -> DemoModels:
        return DemoModels(reviewer_b_objects=self.reviewer_b_objects)


def _has_bot_comment(
    key: str, *, on_pr: bool = True
) -> Callable[[DemoDriver], Awaitable[str | None]]:
    async def check(driver: DemoDriver) -> str | None:
        workflow = await driver.workflow()
        number = workflow.pr_number if on_pr and workflow.pr_number else driver.issue
        bodies = [c.body for c in driver.stack.github.comments_on(REPO, number)]
        wanted = "<!-- triad:" + key.format(sha=workflow.head_sha)
        if not any(body.startswith(wanted) for body in bodies):  # Triad's, not a quote
            return f"no comment {key} on #{number}"
        return None

    return check


async def _design_and_approve(driver: DemoDriver, *, with_question: bool) -> bool:
    ok = await driver.step(
        "maintainer labels the issue triad:design",
        driver.label(MAINTAINER, "triad:design"),
        Stage.DESIGN_PROPOSED,
    )
    if ok and with_question:
        ok = await driver.step(
            "maintainer answers the architect's question",
            driver.comment(MAINTAINER, ANSWER),
            Stage.DESIGN_PROPOSED,
        )
    return ok and await driver.step(
        "maintainer approves with triad:approved",
        driver.label(MAINTAINER, "triad:approved"),
        Stage.TESTING,
    )


async def _qa(driver: DemoDriver) -> bool:
    return await driver.step(
        "maintainer passes QA with triad:qa-passed",
        driver.label(MAINTAINER, "triad:qa-passed", on_pr=True),
        Stage.DONE,
    )


async def full(driver: DemoDriver) -> bool:
    steps = [
        ("CI fails on the first commit", driver.ci("failure", CI_FAILURE), Stage.TESTING),
        ("CI passes on the fix; the reviewers disagree", driver.ci("success"), Stage.NEEDS_HUMAN),
        (
            "maintainer decides: accept as it is",
            driver.comment(MAINTAINER, "/triad resume", on_pr=True),
            Stage.READY_FOR_QA,
        ),
    ]
    if not await _design_and_approve(driver, with_question=True):
        return False
    for name, act, stage in steps:
        if not await driver.step(name, act, stage):
            return False
    return await _qa(driver)


async def happy(driver: DemoDriver) -> bool:
    return (
        await _design_and_approve(driver, with_question=True)
        and await driver.step(
            "CI passes; both reviewers approve", driver.ci("success"), Stage.READY_FOR_QA
        )
        and await _qa(driver)
    )


async def ci_never_green(driver: DemoDriver) -> bool:
    if not await _design_and_approve(driver, with_question=False):
        return False
    for attempt in (1, 2):
        if not await driver.step(
            f"CI fails (fix attempt {attempt} follows)",
            driver.ci("failure", CI_FAILURE),
            Stage.TESTING,
        ):
            return False
    return await driver.step(
        "CI fails again: attempts exhausted",
        driver.ci("failure", CI_FAILURE),
        Stage.NEEDS_HUMAN,
        _has_bot_comment("ci-exhausted:{sha}"),
    )


async def reviewers_disagree(driver: DemoDriver) -> bool:
    return (
        await _design_and_approve(driver, with_question=False)
        and await driver.step(
            "CI passes; the reviewers disagree",
            driver.ci("success"),
            Stage.NEEDS_HUMAN,
            _has_bot_comment("disagreement:{sha}"),
        )
        and await driver.step(
            "maintainer decides: zero turns backwards returns 0",
            driver.comment(
                MAINTAINER, "/triad resume Zero turns backwards must return 0.", on_pr=True
            ),
            Stage.TESTING,
        )
        and await driver.step(
            "CI passes; both reviewers approve", driver.ci("success"), Stage.READY_FOR_QA
        )
        and await _qa(driver)
    )


async def unauthorized_labeller(driver: DemoDriver) -> bool:
    async def nothing_ran(driver: DemoDriver) -> str | None:
        asked = len(driver.stack.model_server.requests)
        return f"{asked} model call(s) were made" if asked else None

    async def no_pr(driver: DemoDriver) -> str | None:
        return "a PR was opened" if driver.stack.github.repo(REPO).pulls else None

    return (
        await driver.step(
            "a reader labels the issue triad:design",
            driver.label(OUTSIDER, "triad:design"),
            None,
            nothing_ran,
        )
        and await driver.step(
            "maintainer labels the issue triad:design",
            driver.label(MAINTAINER, "triad:design"),
            Stage.DESIGN_PROPOSED,
        )
        and await driver.step(
            "the reader tries to approve",
            driver.label(OUTSIDER, "triad:approved"),
            Stage.DESIGN_PROPOSED,
            no_pr,
        )
    )


async def redelivered_webhooks(driver: DemoDriver) -> bool:
    def redeliver_all() -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            for delivery in list(driver.stack.github.deliveries):
                driver.stack.github.redeliver(delivery.id)

        return act

    async def counts(driver: DemoDriver) -> str | None:
        repo = driver.stack.github.repo(REPO)
        designs = [
            c
            for c in driver.stack.github.comments_on(REPO, driver.issue)
            if carries(c.body, "design")
        ]
        found = (len(designs), len(repo.pulls), len(repo.reviews))
        return None if found == (1, 1, 2) else f"design comments, PRs, reviews = {found}"

    return (
        await _design_and_approve(driver, with_question=False)
        and await driver.step(
            "CI passes; both reviewers approve", driver.ci("success"), Stage.READY_FOR_QA
        )
        and await driver.step(
            "GitHub redelivers every webhook", redeliver_all(), Stage.READY_FOR_QA, counts
        )
        and await _qa(driver)
    )


async def model_outage(driver: DemoDriver) -> bool:
    server: FakeModelServer = driver.stack.model_server

    async def outage() -> None:
        server.script("*", lambda _request: overloaded())
        await driver.label(MAINTAINER, "triad:design")()

    async def recovered() -> None:
        server.reset()
        await driver.comment(MAINTAINER, "/triad resume")()

    return await driver.step(
        "the model provider is overloaded while the maintainer labels",
        outage,
        Stage.NEEDS_HUMAN,
        _has_bot_comment("failed:architect:1:", on_pr=False),
    ) and await driver.step("the outage ends; maintainer resumes", recovered, Stage.DESIGN_PROPOSED)


def _triads_check(conclusion: str) -> Callable[[DemoDriver], Awaitable[str | None]]:
    async def check(driver: DemoDriver) -> str | None:
        head = (await driver.workflow()).head_sha
        runs = [r for r in driver.stack.github.check_runs(REPO, head) if r.app == "triad"]
        found = runs[-1].conclusion if runs else None
        return None if found == conclusion else f"Triad's check is {found}, not {conclusion}"

    return check


async def review_human_pr(driver: DemoDriver) -> bool:
    async def nothing_yet(driver: DemoDriver) -> str | None:
        asked = len(driver.stack.model_server.requests)
        return f"{asked} model call(s) before anyone asked" if asked else None

    async def disagreement(driver: DemoDriver) -> str | None:
        return await _has_bot_comment("disagreement:{sha}:r1")(driver) or await _triads_check(
            "action_required"
        )(driver)

    change: dict[str, str | None] = {
        "widgets/core.py": CORE.format(body=FIXED),
        "tests/test_core.py": TESTS,
    }
    return (
        await driver.step(
            "a contributor opens a pull request (Closes #1)",
            driver.persons_pull(
                CONTRIBUTOR,
                "spin-backwards",
                change,
                "Spin widgets backwards",
                f"spin() takes reverse=True.\n\nCloses #{driver.issue}",
            ),
            None,
            nothing_yet,
        )
        and await driver.step(
            "maintainer asks for a review; the reviewers disagree",
            driver.comment(MAINTAINER, "/triad review"),
            Stage.NEEDS_HUMAN,
            disagreement,
        )
        and await driver.step(
            'maintainer clicks "Accept as is" on Triad\'s check run',
            driver.check_button(MAINTAINER, "accept"),
            Stage.REVIEWED,
            _triads_check("success"),
        )
    )


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "full",
            "the whole story: a question, approval, CI fails once, the reviewers disagree, "
            "a human decides, QA passes",
            full,
            reviewer_b_objects=True,
        ),
        Scenario("happy", "every stage passes first time", happy),
        Scenario(
            "ci-never-green", "CI keeps failing: Triad stops after its attempts", ci_never_green
        ),
        Scenario(
            "reviewers-disagree",
            "the reviewers disagree; the maintainer's decision goes back to the developer",
            reviewers_disagree,
            reviewer_b_objects=True,
        ),
        Scenario(
            "unauthorized-labeller",
            "a reader's labels start and approve nothing",
            unauthorized_labeller,
        ),
        Scenario(
            "redelivered-webhooks",
            "GitHub redelivers every webhook: nothing is done twice",
            redelivered_webhooks,
        ),
        Scenario(
            "model-outage", "the model provider is down: a clear comment, then resume", model_outage
        ),
        Scenario(
            "review-human-pr",
            "a contributor's pull request: a maintainer asks for a review, the reviewers "
            "disagree on one point, the maintainer accepts it with the check run's button",
            review_human_pr,
            reviewer_b_objects=True,
        ),
    )
}
