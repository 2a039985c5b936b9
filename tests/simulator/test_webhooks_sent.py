"""The simulator sends the deliveries GitHub would: signed, with real deliveries' fields."""

from __future__ import annotations

import json
from typing import Any

from bot.github.events import WebhookEvent, read_json
from bot.routing import ROUTER
from tests.conftest import FIXTURES
from tests.simulator.conftest import FILES, REPO, Receiver
from triad_lab.simulator.server import Simulator

#: objects whose keys are compared with GitHub's own deliveries
OBJECTS = ("issue", "comment", "label", "pull_request", "review", "check_suite", "workflow_run")


def play_a_story(sim: Simulator) -> None:
    """A person and CI touch everything that sends a webhook."""
    issue = sim.open_issue(REPO, "alice", "Spin faster", "It is slow.")
    sim.add_label(REPO, issue.number, "alice", "triad:design")
    sim.edit_issue(REPO, issue.number, "alice", body="It is too slow.")
    note = sim.comment(REPO, issue.number, "carol", "/triad revise")
    sim.edit_comment(REPO, note.id, "carol", "/triad revise please")
    sim.remove_label(REPO, issue.number, "alice", "triad:design")
    sim.push(REPO, "fast", "carol", {"widgets/core.py": FILES["widgets/core.py"] + "# fast\n"}, "m")
    pr = sim.open_pull(REPO, "carol", title="Faster", head="fast", base="main", draft=True)
    sim.add_label(REPO, pr.number, "alice", "triad:review")
    sha = sim.push(REPO, "fast", "carol", {"README.md": "# Widgets, fast\n"}, "docs")
    sim.mark_ready(REPO, pr.number, "carol")
    sim.submit_review(REPO, pr.number, "alice", "APPROVE", "Fine")
    sim.complete_checks(REPO, sha, "success")
    sim.flush()


def test_every_change_sends_a_signed_delivery_triad_can_read(
    sim: Simulator, receiver: Receiver
) -> None:
    play_a_story(sim)
    got = [(r["event"], r["payload"].get("action")) for r in receiver.received]
    assert got == [
        ("installation", "created"),
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issues", "edited"),
        ("issue_comment", "created"),
        ("issue_comment", "edited"),
        ("issues", "unlabeled"),
        ("push", None),
        ("pull_request", "opened"),
        ("pull_request", "labeled"),
        ("push", None),
        ("pull_request", "synchronize"),
        ("pull_request", "ready_for_review"),
        ("pull_request_review", "submitted"),
        ("check_suite", "completed"),
        ("workflow_run", "completed"),
    ]
    assert all(r["signed"] for r in receiver.received)  # our own HMAC, not the sender's
    assert {r["headers"]["x-github-hook-installation-target-id"] for r in receiver.received} == {
        str(sim.app_id)
    }
    assert len({r["delivery"] for r in receiver.received}) == len(receiver.received)
    installation_id = sim.installation_id(REPO)
    for record in receiver.received:
        payload = record["payload"]
        route = ROUTER.route(record["event"], payload.get("action"))
        event = read_json(route.model if route else WebhookEvent, json.dumps(payload).encode())
        assert event.installation is not None and event.installation.id == installation_id
    labeled = receiver.of("issues", "labeled")[0]
    assert labeled["sender"]["login"] == "alice" and labeled["label"]["name"] == "triad:design"
    edited = receiver.of("issue_comment", "edited")[0]
    assert edited["changes"] == {"body": {"from": "/triad revise"}}
    sync = receiver.of("pull_request", "synchronize")[0]
    assert sync["after"] == sync["pull_request"]["head"]["sha"] != sync["before"]
    suite = receiver.of("check_suite", "completed")[0]["check_suite"]
    assert suite["pull_requests"][0]["number"] == 2 and suite["conclusion"] == "success"


def test_the_bots_own_changes_are_sent_with_the_bot_as_sender(
    sim: Simulator, receiver: Receiver
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.comment(REPO, issue.number, sim.bot_login, "designing…")
    sim.flush()
    sender = receiver.of("issue_comment", "created")[0]["sender"]
    assert (sender["login"], sender["type"]) == ("triad[bot]", "Bot")


def test_a_redelivery_keeps_its_delivery_id(sim: Simulator, receiver: Receiver) -> None:
    sim.open_issue(REPO, "alice", "t")
    sim.flush()
    first = sim.deliveries[-1]
    sim.redeliver(first.id)
    sim.flush()
    assert [r["delivery"] for r in receiver.received[-2:]] == [first.id, first.id]


def _keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


def test_payloads_carry_the_fields_real_deliveries_carry(
    sim: Simulator, receiver: Receiver
) -> None:
    play_a_story(sim)
    missing: dict[str, set[str]] = {}
    for path in sorted(FIXTURES.glob("*.json")):
        event, action = path.name.split(".")[:2]
        ours = receiver.of(event, action)
        if not ours:
            continue
        real = json.loads(path.read_text())
        for name in ("", *OBJECTS):
            want = _keys(real.get(name) if name else real)
            have = _keys(ours[0].get(name) if name else ours[0])
            # organization/enterprise depend on the account; the rest must be there
            gap = want - have - {"organization", "enterprise"}
            if gap:
                missing[f"{path.name}:{name or 'top'}"] = gap
    assert missing == {}


def test_dropped_and_duplicated_deliveries(sim: Simulator, receiver: Receiver) -> None:
    sim.flush()
    before = len(receiver.received)
    sim.drop_deliveries(1)
    lost = sim.open_issue(REPO, "alice", "lost")
    sim.duplicate_deliveries(1)
    sim.open_issue(REPO, "alice", "twice")
    sim.flush()
    titles = [r["payload"]["issue"]["title"] for r in receiver.received[before:]]
    assert titles == ["twice", "twice"]
    assert len({r["delivery"] for r in receiver.received[before:]}) == 1
    dropped = sim.dropped_deliveries[0]
    assert dropped.payload["issue"]["number"] == lost.number
    sim.redeliver(dropped.id)
    sim.flush()
    assert receiver.received[-1]["payload"]["issue"]["title"] == "lost"


def test_ci_deliveries_name_the_pusher_of_the_head_commit(
    sim: Simulator, receiver: Receiver
) -> None:
    sha = sim.push(REPO, "fast", "carol", {"a.txt": "a\n"}, "a")
    sim.complete_checks(REPO, sha, "success")
    sim.flush()
    suite = receiver.of("check_suite", "completed")[-1]
    run = receiver.of("workflow_run", "completed")[-1]
    assert suite["sender"]["login"] == "carol"
    assert run["sender"]["login"] == "carol"
    assert run["workflow_run"]["actor"]["login"] == "carol"
    assert run["workflow_run"]["triggering_actor"]["login"] == "carol"


def test_installation_created_carries_epoch_seconds_as_github_sends(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.flush()
    installation = receiver.of("installation", "created")[0]["installation"]
    assert isinstance(installation["created_at"], int)
    assert isinstance(installation["updated_at"], int)


def test_a_pending_review_sends_nothing(sim: Simulator, receiver: Receiver) -> None:
    sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main")
    review = sim.submit_review(REPO, pr.number, "alice", None, "draft thoughts")
    sim.flush()
    assert review.state == "PENDING" and review.submitted_at is None
    assert receiver.of("pull_request_review") == []


def test_a_moved_branch_sends_a_push_with_the_paths_each_commit_changed(
    sim: Simulator, receiver: Receiver
) -> None:
    """As GitHub does for every branch: created, moved, merged into, deleted."""
    sim.push(REPO, "main", "alice", {".github/triad.yml": "labels: {}\n"}, "config")
    sha = sim.push(REPO, "fast", "carol", {"README.md": "# Fast\n", "NEW.md": "new\n"}, "docs")
    pr = sim.open_pull(REPO, "carol", title="Fast", head="fast", base="main")
    merged = sim.merge_pull(REPO, pr.number, "alice")
    sim.flush()
    pushes = receiver.of("push", None)
    assert [(p["ref"], p["created"]) for p in pushes] == [
        ("refs/heads/main", False),
        ("refs/heads/fast", True),
        ("refs/heads/main", False),
    ]
    config, branch, merge = pushes
    assert config["commits"][-1]["added"] == [".github/triad.yml"]
    assert config["head_commit"] == config["commits"][-1]
    assert config["repository"]["default_branch"] == "main"
    assert branch["after"] == sha and branch["before"] == "0" * 40
    assert branch["commits"][-1]["added"] == ["NEW.md"]
    assert branch["commits"][-1]["modified"] == ["README.md"]
    assert merge["after"] == merged and merge["pusher"]["name"] == "alice"
    real = json.loads((FIXTURES / "push.with-installation.json").read_text())
    assert set(real) - set(merge) - {"organization", "enterprise"} == set()
    event = ROUTER.route("push", None)
    assert event is not None and read_json(event.model, json.dumps(merge).encode()).after == merged
