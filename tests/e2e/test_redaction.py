"""One redactor everywhere: a traceback the real server logs carries no secret, and nothing
Triad writes on GitHub does either."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.llm.config import process_redactor
from bot.logs import configure_logging
from tests.e2e.conftest import MAINTAINER, REPO, open_issue
from tests.e2e.helpers import bot_comments, workflow_of
from triad_lab.simulator.model_server import ModelRequest
from triad_lab.simulator.models_script import DEFAULT_HOOKS, ScriptedModels
from triad_lab.simulator.stack import TriadStack

TOKEN = "ghs_" + "Zq8" * 12


async def test_a_logged_traceback_and_a_posted_comment_carry_no_secret(
    stack: TriadStack, capfd: pytest.CaptureFixture[str]
) -> None:
    assert stack.settings is not None and stack.settings.webhook_secret is not None
    secret = stack.settings.webhook_secret.get_secret_value()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", "json", process_redactor(stack.settings))  # as `triad serve`
    try:
        # GitHub's answer echoes a token and the webhook secret: the job fails and is logged
        # with its traceback, then its retry posts the design
        refusal = f"Validation Failed: {TOKEN} {secret}"
        stack.github.fail("POST", rf"^/repos/{REPO}/issues/\d+/comments$", 422, message=refusal)
        number = open_issue(stack)
        stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
        await stack.settle()
    finally:
        root.handlers[:], root.level = handlers, level
    logged = capfd.readouterr().err
    assert "Traceback" in logged and "Validation Failed" in logged
    assert TOKEN not in logged and secret not in logged and "[REDACTED]" in logged
    assert bot_comments(stack, number, "design")


async def test_a_secret_in_a_models_answer_is_not_posted(stack: TriadStack) -> None:
    assert stack.settings is not None and stack.settings.webhook_secret is not None
    secret = stack.settings.webhook_secret.get_secret_value()

    def leaky(request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
        design = DEFAULT_HOOKS["DesignProposal"](request, data)
        return {**design, "problem": f"Deploy with {secret} and {TOKEN}."}

    stack.model_server.script("*", ScriptedModels({"DesignProposal": leaky}))
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    [design] = bot_comments(stack, number, "design")
    assert "Deploy with [REDACTED] and [REDACTED]." in design
    # the comment as posted is the one proposed: approval still matches its hash
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    await stack.settle()
    assert (await workflow_of(stack, number)).approved_version == 1
