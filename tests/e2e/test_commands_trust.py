"""Commands are lines a person typed, acted on once; people without write access are told once."""

from __future__ import annotations

from collections import Counter

from bot.metrics import Metrics
from bot.store.refusals import PER_PERSON_DAILY
from bot.workflow.model import Stage
from tests.e2e.conftest import MAINTAINER, OUTSIDER, REPO, open_issue
from tests.e2e.helpers import bot_comments, workflow_of
from triad_lab.simulator.stack import TriadStack


async def test_a_stop_quoted_in_a_code_block_stops_nothing(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    example = (
        "To stop Triad, write:\n\n```\n/triad stop\n```\n\n> /triad stop\n<!-- /triad stop -->"
    )
    stack.github.comment(REPO, number, MAINTAINER, example)
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED
    assert "triad:design-proposed" in stack.github.labels_on(REPO, number)


async def test_a_stop_in_a_list_fence_a_lazy_quote_or_pre_block_stops_nothing(
    stack: TriadStack,
) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    example = (
        "- to stop it:\n  ```\n  /triad stop\n  ```\n\n"
        "> @mallory wrote:\n/triad stop\n\n"
        "<pre>\n/triad stop\n</pre>\n\nok <!--\n/triad stop\n-->"
    )
    stack.github.comment(REPO, number, MAINTAINER, example)
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED


async def test_fifteen_commands_from_a_reader_get_one_refusal(stack: TriadStack) -> None:
    number = open_issue(stack)
    await stack.settle()
    before = stack.github.request_count()
    for _ in range(15):
        stack.github.comment(REPO, number, OUTSIDER, "/triad status")
    await stack.settle()
    [refusal] = bot_comments(stack, number)
    assert "@mallory only people with write" in refusal
    # each later attempt costs the permission check, the config and the comment's check: no
    # listing of comments, no comment posted
    made = stack.github.requests[before:]
    assert [r.kind for r in made if r.method != "GET" and "/repos/" in r.route] == [
        "POST /repos/{owner}/{name}/issues/{number}/comments"
    ]
    assert len(made) <= 15 * 3 + 4, Counter(r.kind for r in made)
    metrics = await _metrics(stack)
    assert 'triad_refusals{outcome="commented"} 1.0' in metrics
    assert 'triad_refusals{outcome="suppressed"} 14.0' in metrics


async def test_a_reader_commanding_on_many_issues_is_told_three_times_a_day(
    stack: TriadStack,
) -> None:
    numbers = [open_issue(stack) for _ in range(5)]
    await stack.settle()
    for number in numbers:
        stack.github.comment(REPO, number, OUTSIDER, "/triad status")
        await stack.settle()  # one after the other: which three are told is then known
    told = [number for number in numbers if bot_comments(stack, number)]
    assert told == numbers[:PER_PERSON_DAILY] == numbers[:3]
    metrics = await _metrics(stack)
    assert 'triad_refusals{outcome="commented"} 3.0' in metrics
    assert 'triad_refusals{outcome="suppressed"} 2.0' in metrics


async def test_a_command_whose_comment_was_deleted_does_nothing(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.drop_deliveries(1)
    stop = stack.github.comment(REPO, number, MAINTAINER, "/triad stop")
    stack.github.edit_comment(REPO, stop.id, MAINTAINER, "never mind")
    stack.github.redeliver(stack.github.dropped_deliveries[-1].id)
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED


async def test_a_command_edited_into_a_comment_acts_once(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    note = stack.github.comment(REPO, number, MAINTAINER, "Looks fine, one thing:")
    await stack.settle()
    said = "Looks fine, one thing:\n/triad revise use a keyword"
    stack.github.edit_comment(REPO, note.id, MAINTAINER, said)
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2
    # the same command edited back in, or around, never acts twice for one comment
    stack.github.edit_comment(REPO, note.id, MAINTAINER, "never mind")
    await stack.settle()
    stack.github.edit_comment(REPO, note.id, MAINTAINER, "Fine:\n/triad revise use a keyword")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2
    # a different command edited in acts as if it had been written so, once
    stack.github.edit_comment(REPO, note.id, MAINTAINER, "Looks fine:\n/triad revise use a flag")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 3


async def test_a_corrected_command_acts(stack: TriadStack) -> None:
    """`/triad stpo` got the unknown-command reply; the edit to `/triad stop` stops."""
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    typo = stack.github.comment(REPO, number, MAINTAINER, "/triad stpo")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED
    stack.github.edit_comment(REPO, typo.id, MAINTAINER, "/triad stop")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.STOPPED


async def test_a_command_tidied_before_its_job_ran_acts(stack: TriadStack) -> None:
    """The job reads the comment after the edit: it still holds the same command."""
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stop = stack.github.comment(REPO, number, MAINTAINER, "/triad stop")
    stack.github.edit_comment(REPO, stop.id, MAINTAINER, "/triad stop\n\nSorry, wrong approach.")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.STOPPED


async def test_an_edit_that_adds_no_command_acts_not_again(stack: TriadStack) -> None:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    note = stack.github.comment(REPO, number, MAINTAINER, "/triad revise use a keyword")
    plea = stack.github.comment(REPO, number, OUTSIDER, "Please stop this.")
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2
    before = len(stack.github.requests)
    stack.github.edit_comment(REPO, note.id, MAINTAINER, "/triad revise use a keyword\n\nThanks!")
    # a writer tidying someone else's comment does not make it a command
    stack.github.edit_comment(REPO, plea.id, MAINTAINER, "/triad stop")
    await stack.settle()
    assert (await workflow_of(stack, number)).stage is Stage.DESIGN_PROPOSED
    assert (await workflow_of(stack, number)).design_version == 2
    # dropped at the door: not one GitHub request
    assert stack.github.requests[before:] == []


async def _metrics(stack: TriadStack) -> str:
    """The metrics the admin port would show, rendered from the stack's store."""
    assert stack.store is not None
    return (await Metrics().render(stack.store)).decode()
