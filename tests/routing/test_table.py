"""The routing table: one place decides what is queued and what each delivery means."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.github.events import IssueCommentEvent
from bot.repo_config import RepoConfig
from bot.routing import ROUTER, Admitted, DoorFacts, Ignored, Router

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"
OWN = DoorFacts(own_login="triad[bot]")
REPOSITORY = {
    "id": 1,
    "name": "repo",
    "full_name": "octo/repo",
    "owner": {"login": "octo", "id": 2},
}


def _delivery(sender: str = "alice", **fields: Any) -> dict[str, Any]:
    kind = "Bot" if sender.endswith("[bot]") else "User"
    return {
        "sender": {"login": sender, "id": 7, "type": kind},
        "installation": {"id": 3},
        "repository": REPOSITORY,
        **fields,
    }


def _issue(**fields: Any) -> dict[str, Any]:
    return {"number": 12, "title": "t", "user": {"login": "alice", "id": 7}, **fields}


def _pull(branch: str, repo: str = "octo/repo", **fields: Any) -> dict[str, Any]:
    ref = {"ref": branch, "sha": "a" * 40, "repo": {"full_name": repo}}
    base = {"ref": "main", "sha": "b" * 40, "repo": {"full_name": "octo/repo"}}
    pull = {"number": 40, "user": {"login": "alice", "id": 7}, "head": ref, "base": base}
    return pull | fields


def _run(app: str) -> dict[str, Any]:
    return {"id": 9, "name": "Triad", "head_sha": "a" * 40, "app": {"id": 1, "slug": app}}


def _suite(app: str, branch: str) -> dict[str, Any]:
    return {"id": 8, "head_sha": "a" * 40, "head_branch": branch, "app": {"slug": app}}


def _admit(
    event: str, action: str | None, payload: dict[str, Any], facts: DoorFacts
) -> Admitted | Ignored:
    return ROUTER.admit(event, action, json.dumps(payload).encode(), facts)


def test_every_event_the_app_subscribes_to_has_a_route_and_every_route_is_subscribed() -> None:
    manifest = yaml.safe_load(APP_YML.read_text())
    subscribed = set(manifest["default_events"])
    assert subscribed == ROUTER.events()


def test_a_pair_is_routed_once() -> None:
    router = Router()

    @router.register("issue_comment", "created", IssueCommentEvent)
    async def first(event: IssueCommentEvent, intake: object) -> Ignored:
        return Ignored("first")

    with pytest.raises(ValueError, match="routed twice"):
        Router(router, router)


@pytest.mark.parametrize(
    ("event", "action", "payload", "reason"),
    [
        (
            "issues",
            "unlabeled",
            _delivery(issue=_issue()),
            "Triad does not act on issues.unlabeled",
        ),
        (
            "pull_request",
            "unlabeled",
            _delivery(pull_request=_pull("feature/x"), label={"name": "triad:review"}),
            "Triad does not act on pull_request.unlabeled",
        ),
        (
            "pull_request_review",
            "submitted",
            _delivery(),
            "Triad does not act on pull_request_review.submitted",
        ),
        (
            "issue_comment",
            "created",
            _delivery(
                issue=_issue(), comment={"id": 1, "body": "LGTM", "user": {"login": "a", "id": 1}}
            ),
            "the comment holds no /triad command",
        ),
        (
            "issue_comment",
            "created",
            _delivery(
                sender="triad[bot]",
                issue=_issue(),
                comment={"id": 1, "body": "/triad status", "user": {"login": "a", "id": 1}},
            ),
            "Triad's own event",
        ),
        (
            "pull_request",
            "labeled",
            _delivery(pull_request=_pull("feature/x", state="closed"), label={"name": "x"}),
            "the pull request is not open",
        ),
        (
            "pull_request",
            "synchronize",
            _delivery(pull_request=_pull("triad/issue-12", repo="mallory/fork")),
            "a fork's pushes are reviewed only on a writer's request",
        ),
        (
            "pull_request",
            "opened",
            _delivery(pull_request=_pull("feature/x", repo="mallory/fork")),
            "a fork's pull request is reviewed only on a writer's request",
        ),
        (
            "pull_request",
            "opened",
            _delivery(pull_request=_pull("feature/x", draft=True)),
            "a draft pull request is not reviewed by itself",
        ),
        (
            "pull_request",
            "ready_for_review",
            _delivery(pull_request=_pull("triad/issue-12")),
            "Triad's own pull request is reviewed by its workflow",
        ),
        (
            "check_run",
            "completed",
            _delivery(check_run=_run("github-actions")),
            "Triad does not act on check_run.completed",
        ),
        (
            "check_run",
            "requested_action",
            _delivery(check_run=_run("github-actions"), requested_action={"identifier": "x"}),
            "a check run that is not Triad's",
        ),
        (
            "check_suite",
            "completed",
            _delivery(check_suite=_suite("triad", "triad/issue-12")),
            "Triad's own check suite is not CI",
        ),
        (
            "check_suite",
            "rerequested",
            _delivery(check_suite=_suite("github-actions", "feature/x")),
            "a check suite that is not Triad's",
        ),
        (
            "check_suite",
            "completed",
            _delivery(check_suite={"id": 1, "head_sha": "a" * 40, "head_branch": "main"}),
            "branch 'main' is not a Triad branch",
        ),
        (
            "status",
            None,
            _delivery(sha="a" * 40, state="success", branches=[{"name": "main"}]),
            "the commit is on no Triad branch",
        ),
        (
            "issues",
            "labeled",
            {"sender": {"login": "alice", "id": 7}, "issue": _issue(), "label": {"name": "x"}},
            "the delivery names no App installation or repository",
        ),
    ],
)
def test_what_cannot_concern_triad_is_dropped_at_the_door(
    event: str, action: str | None, payload: dict[str, Any], reason: str
) -> None:
    if action:
        payload = {"action": action, **payload}
    ignored = _admit(event, action, payload, OWN)
    assert isinstance(ignored, Ignored) and ignored.reason == reason


@pytest.mark.parametrize(
    ("event", "action", "payload"),
    [
        (
            "issue_comment",
            "created",
            _delivery(
                issue=_issue(),
                comment={
                    "id": 1,
                    "body": "thanks!\n/triad revise",
                    "user": {"login": "a", "id": 1},
                },
            ),
        ),
        ("issues", "labeled", _delivery(issue=_issue(), label={"name": "triad:design"})),
        (
            "pull_request",
            "synchronize",
            _delivery(pull_request=_pull("triad/issue-12")),
        ),
        # a person's PR: the label may be the review label, the push may be re-reviewed
        ("pull_request", "labeled", _delivery(pull_request=_pull("x"), label={"name": "y"})),
        ("pull_request", "synchronize", _delivery(pull_request=_pull("feature/x"))),
        ("pull_request", "opened", _delivery(pull_request=_pull("feature/x"))),
        # a fork's PR is closed, a button of Triad's check run is clicked
        ("pull_request", "closed", _delivery(pull_request=_pull("x", repo="mallory/fork"))),
        ("issues", "closed", _delivery(issue=_issue())),
        (
            "check_run",
            "requested_action",
            _delivery(check_run=_run("triad"), requested_action={"identifier": "accept"}),
        ),
        ("check_run", "rerequested", _delivery(check_run=_run("triad"))),
        ("check_suite", "rerequested", _delivery(check_suite=_suite("triad", "feature/x"))),
        # CI's events name whoever pushed, Triad included: they are never dropped as its own
        (
            "workflow_run",
            "completed",
            _delivery(
                sender="triad[bot]",
                workflow_run={"id": 1, "head_sha": "a" * 40, "head_branch": "triad/issue-12"},
            ),
        ),
    ],
)
def test_what_may_concern_triad_is_queued(event: str, action: str, payload: dict[str, Any]) -> None:
    admitted = _admit(event, action, {"action": action, **payload}, OWN)
    assert isinstance(admitted, Admitted)
    assert admitted.route.event == event and admitted.route.action == action


def test_triads_own_events_pass_the_door_until_it_knows_its_login() -> None:
    """The delivery job still drops them: the door only saves the work."""
    payload = _delivery(
        sender="triad[bot]", issue=_issue(), label={"name": "triad:design-proposed"}
    )
    admitted = _admit("issues", "labeled", {"action": "labeled", **payload}, DoorFacts())
    assert isinstance(admitted, Admitted)


#: the actions GitHub sends for each event the App subscribes to (its webhook docs)
ACTIONS = {
    "issues": (
        "opened edited deleted pinned unpinned closed reopened assigned unassigned labeled "
        "unlabeled locked unlocked transferred milestoned demilestoned typed untyped"
    ),
    "issue_comment": "created edited deleted",
    "pull_request": (
        "assigned auto_merge_disabled auto_merge_enabled closed converted_to_draft demilestoned "
        "dequeued edited enqueued labeled locked milestoned opened ready_for_review reopened "
        "review_request_removed review_requested synchronize unassigned unlabeled unlocked"
    ),
    "check_suite": "completed requested rerequested",
    "check_run": "created completed rerequested requested_action",
    "workflow_run": "requested in_progress completed",
    "push": "",
    "status": "",
}


@pytest.mark.parametrize(
    ("event", "action"),
    [(event, action) for event, actions in ACTIONS.items() for action in actions.split() or [""]],
)
def test_every_subscribed_pair_is_acted_on_or_dropped_at_the_door(event: str, action: str) -> None:
    """Nothing is stored, queued and then found to have no route: a pair without one is
    dropped at once, before its payload is even read."""
    assert event in yaml.safe_load(APP_YML.read_text())["default_events"]
    if ROUTER.route(event, action) is None:
        dropped = _admit(event, action, {}, OWN)
        assert isinstance(dropped, Ignored) and dropped.code == "no_route"


def _edit(body: str, before: str | None, author: str = "alice") -> dict[str, Any]:
    """An `issue_comment.edited` delivery sent by alice; `before` None: no body change."""
    comment = {"id": 5, "body": body, "user": {"login": author, "id": 8}}
    changes = {} if before is None else {"body": {"from": before}}
    return {"action": "edited", **_delivery(issue=_issue(), comment=comment, changes=changes)}


@pytest.mark.parametrize(
    ("body", "before"),
    [
        ("Looks good.\n/triad revise use a flag", "Looks good."),
        ("/triad stop", "/triad status"),
        ("/triad revise use a flag", "/triad revise use a keyword"),
        ("/triad stop", "```\n/triad stop\n```"),
        ("/triad stop", "/triad stopp"),
    ],
)
def test_an_edit_that_adds_a_command_is_queued(body: str, before: str) -> None:
    admitted = _admit("issue_comment", "edited", _edit(body, before), OWN)
    assert isinstance(admitted, Admitted)
    assert admitted.route.action == "edited"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_edit("typo fixed", "typo fxied"), "no_command"),
        (_edit("/triad revise use a flag\nand more", "/triad revise use a flag"), "no_new_command"),
        (_edit("/triad stop", None), "no_new_command"),
        (_edit("/triad stop", "please stop", author="mallory"), "others_comment"),
    ],
)
def test_an_edit_that_adds_no_command_of_its_author_is_dropped(
    payload: dict[str, Any], reason: str
) -> None:
    ignored = _admit("issue_comment", "edited", payload, OWN)
    assert isinstance(ignored, Ignored) and ignored.code == reason


def test_every_subscribed_event_is_listed_with_its_actions() -> None:
    assert set(ACTIONS) == set(yaml.safe_load(APP_YML.read_text())["default_events"])


# -- what the store knows (`DoorFacts.config`, `.workflow`): never a GitHub request ---------

CUSTOM = RepoConfig.model_validate({"labels": {"design": "ai:design", "review": "ai:review"}})
KNOWN = DoorFacts(own_login="triad[bot]", config=RepoConfig(), workflow=False)


def _push(ref: str = "refs/heads/main", *paths: str, **fields: Any) -> dict[str, Any]:
    commits = [{"id": "c" * 40, "added": [], "removed": [], "modified": [p]} for p in paths]
    repository = REPOSITORY | {"default_branch": "main"}
    return _delivery(ref=ref, before="b" * 40, after="a" * 40, commits=commits) | {
        "repository": repository,
        **fields,
    }


STORE_DROPS = [
    (
        "issues",
        "labeled",
        _delivery(issue=_issue(), label={"name": "bug"}),
        KNOWN,
        "unrelated_label",
    ),
    # the repository renamed its labels: the default name means nothing there
    (
        "issues",
        "labeled",
        _delivery(issue=_issue(), label={"name": "triad:design"}),
        replace(KNOWN, config=CUSTOM),
        "unrelated_label",
    ),
    # on a person's PR only the review label acts; on Triad's PR the QA labels too
    (
        "pull_request",
        "labeled",
        _delivery(pull_request=_pull("feature/x"), label={"name": "triad:qa-passed"}),
        KNOWN,
        "unrelated_label",
    ),
    (
        "pull_request",
        "labeled",
        _delivery(pull_request=_pull("triad/issue-12"), label={"name": "enhancement"}),
        KNOWN,
        "unrelated_label",
    ),
    (
        "pull_request",
        "opened",
        _delivery(pull_request=_pull("feature/x")),
        KNOWN,
        "review_auto_off",
    ),
    (
        "pull_request",
        "ready_for_review",
        _delivery(pull_request=_pull("feature/x")),
        KNOWN,
        "review_auto_off",
    ),
    # a person's PR Triad was never asked to review; Triad's branch with no workflow
    (
        "pull_request",
        "synchronize",
        _delivery(pull_request=_pull("feature/x")),
        KNOWN,
        "no_workflow",
    ),
    (
        "pull_request",
        "synchronize",
        _delivery(pull_request=_pull("triad/issue-12")),
        KNOWN,
        "no_workflow",
    ),
    (
        "pull_request",
        "synchronize",
        _delivery(pull_request=_pull("feature/x")),
        replace(KNOWN, workflow=True),
        "on_push_off",
    ),
    ("pull_request", "closed", _delivery(pull_request=_pull("feature/x")), KNOWN, "no_workflow"),
    ("pull_request", "reopened", _delivery(pull_request=_pull("feature/x")), KNOWN, "no_workflow"),
    ("issues", "closed", _delivery(issue=_issue()), KNOWN, "no_workflow"),
    ("issues", "reopened", _delivery(issue=_issue()), KNOWN, "no_workflow"),
    (
        "issues",
        "edited",
        _delivery(issue=_issue(labels=[{"name": "bug"}])),
        KNOWN,
        "no_workflow",
    ),
    (
        "workflow_run",
        "completed",
        _delivery(workflow_run={"id": 1, "head_sha": "a" * 40, "head_branch": "triad/issue-12"}),
        KNOWN,
        "no_workflow",
    ),
    (
        "status",
        None,
        _delivery(sha="a" * 40, state="success", branches=[{"name": "triad/issue-12"}]),
        KNOWN,
        "no_workflow",
    ),
    (
        "check_run",
        "rerequested",
        _delivery(check_run=_run("triad") | {"external_id": "12"}),
        KNOWN,
        "no_workflow",
    ),
]


@pytest.mark.parametrize(("event", "action", "payload", "facts", "code"), STORE_DROPS)
def test_what_the_store_shows_cannot_concern_triad_is_dropped(
    event: str, action: str | None, payload: dict[str, Any], facts: DoorFacts, code: str
) -> None:
    if action:
        payload = {"action": action, **payload}
    first = _admit(event, action, payload, OWN)
    assert isinstance(first, Admitted)  # the payload alone could not tell
    assert first.asks[0]  # the route asks the store
    dropped = ROUTER.recheck(first, facts)
    assert isinstance(dropped, Ignored) and dropped.code == code, dropped


@pytest.mark.parametrize(("event", "action", "payload", "facts", "code"), STORE_DROPS)
def test_what_the_store_does_not_know_is_admitted(
    event: str, action: str | None, payload: dict[str, Any], facts: DoorFacts, code: str
) -> None:
    """A door may only err towards admitting: no cached config, no word on the workflow."""
    if action:
        payload = {"action": action, **payload}
    first = _admit(event, action, payload, OWN)
    assert isinstance(first, Admitted)
    unknown = replace(facts, config=None, workflow=None)
    assert ROUTER.recheck(first, unknown) is first


@pytest.mark.parametrize(
    ("event", "action", "payload", "facts"),
    [
        ("issues", "labeled", _delivery(issue=_issue(), label={"name": "triad:design"}), KNOWN),
        (
            "issues",
            "labeled",
            _delivery(issue=_issue(), label={"name": "ai:design"}),
            replace(KNOWN, config=CUSTOM),
        ),
        (
            "pull_request",
            "labeled",
            _delivery(pull_request=_pull("feature/x"), label={"name": "ai:review"}),
            replace(KNOWN, config=CUSTOM),
        ),
        (
            "pull_request",
            "labeled",
            _delivery(pull_request=_pull("triad/issue-12"), label={"name": "triad:qa-failed"}),
            KNOWN,
        ),
        (
            "pull_request",
            "opened",
            _delivery(pull_request=_pull("feature/x")),
            replace(KNOWN, config=RepoConfig.model_validate({"review": {"auto": True}})),
        ),
        (
            "pull_request",
            "synchronize",
            _delivery(pull_request=_pull("triad/issue-12")),
            replace(KNOWN, workflow=True),
        ),
        (
            "pull_request",
            "synchronize",
            _delivery(pull_request=_pull("feature/x")),
            replace(
                KNOWN,
                workflow=True,
                config=RepoConfig.model_validate({"review": {"on_push": True}}),
            ),
        ),
        ("issues", "closed", _delivery(issue=_issue()), replace(KNOWN, workflow=True)),
        # a command is read by its job (who may, which workflow): the door keeps no count
        (
            "issue_comment",
            "created",
            _delivery(
                issue=_issue(),
                comment={"id": 1, "body": "/triad review", "user": {"login": "a", "id": 1}},
            ),
            KNOWN,
        ),
    ],
)
def test_what_the_store_shows_may_concern_triad_is_queued(
    event: str, action: str, payload: dict[str, Any], facts: DoorFacts
) -> None:
    first = _admit(event, action, {"action": action, **payload}, OWN)
    assert isinstance(first, Admitted)
    assert ROUTER.recheck(first, facts) is first


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (_push("refs/heads/feature/x", ".github/triad.yml"), "not_default_branch"),
        (_push("refs/tags/v1", ".github/triad.yml"), "not_default_branch"),
        (_push("refs/heads/main", "README.md", "src/app.py"), "config_unchanged"),
        (_push("refs/heads/main", ".github/triad.yml", deleted=True), "not_default_branch"),
    ],
)
def test_a_push_that_cannot_change_the_config_is_dropped(
    payload: dict[str, Any], code: str
) -> None:
    dropped = _admit("push", None, payload, OWN)
    assert isinstance(dropped, Ignored) and dropped.code == code


@pytest.mark.parametrize(
    "payload",
    [
        _push("refs/heads/main", "README.md", ".github/triad.yml"),
        # the list cannot tell: a forced push, a push of no new commit, a list cut short
        _push("refs/heads/main", "README.md", forced=True),
        _push("refs/heads/main"),
        _push("refs/heads/main", *["README.md"] * 2048),
        # one commit listing 3000 paths: GitHub cuts its list short, the file may be past it
        _push("refs/heads/main", "README.md")
        | {"commits": [{"id": "c" * 40, "modified": [f"src/{n}.py" for n in range(3000)]}]},
        _push("refs/heads/main", "README.md")
        | {"head_commit": {"id": "c" * 40, "added": [f"src/{n}.py" for n in range(3000)]}},
        # Triad's own merge may change it too
        _push("refs/heads/main", ".github/triad.yml", sender={"login": "triad[bot]", "id": 9}),
    ],
)
def test_a_push_that_may_change_the_config_is_queued(payload: dict[str, Any]) -> None:
    admitted = _admit("push", None, payload, OWN)
    assert isinstance(admitted, Admitted) and admitted.route.event == "push"


@pytest.mark.parametrize("digits", ["2147483648", str(2**63), str(10**30), "١٢", "0"])
def test_a_branch_or_check_run_naming_no_possible_issue_names_no_workflow(digits: str) -> None:
    """A branch may be named `triad/issue-<anything>` (a fork's too: its CI runs report it as
    their `head_branch`): a number no issue can have (nor a store hold), or written in other
    digits, names no workflow. CI on it is not Triad's; a pull request from it is its own
    review's (by its number); a check run naming it asks about none."""
    branch = f"triad/issue-{digits}"
    run = {"id": 1, "head_sha": "a" * 40, "head_branch": branch}
    for event, payload in [
        ("workflow_run", _delivery(workflow_run=run)),
        ("check_suite", _delivery(check_suite=_suite("actions", branch))),
    ]:
        dropped = _admit(event, "completed", {"action": "completed", **payload}, OWN)
        assert isinstance(dropped, Ignored) and dropped.code == "not_triads_branch", event
    pushed = _delivery(pull_request=_pull(branch))
    rerun = _delivery(check_run=_run("triad") | {"external_id": digits})
    for event, action, payload, workflow in [
        ("pull_request", "synchronize", pushed, 40),
        ("check_run", "rerequested", rerun, None),
    ]:
        admitted = _admit(event, action, {"action": action, **payload}, OWN)
        assert isinstance(admitted, Admitted) and admitted.asks == (True, workflow), event
    in_range = _delivery(check_run=_run("triad") | {"external_id": "2147483647"})
    admitted = _admit("check_run", "rerequested", {"action": "rerequested", **in_range}, OWN)
    assert isinstance(admitted, Admitted) and admitted.asks == (True, 2**31 - 1)
