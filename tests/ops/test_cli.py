"""The operator's commands against the servers' store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import Delivery, DeliveryOutcome, JobState, NewJob, Store
from bot.store.recovery import TOLD_LOG, Recovery
from tests.ops.conftest import Triad
from tests.ops.seed import Seeded

Operated = tuple[Store, Seeded]


def test_jobs_lists_dead_letters_of_a_kind(seeded: Operated, triad: Triad) -> None:
    _, ids = seeded
    status, out, _ = triad("jobs", "--state", "dead")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "STATE", "ATTEMPTS", "DUE", "TOLD", "LAST_ERROR"]
    assert [line.split()[1] for line in lines[1:]] == ["review", "architect"]
    assert "ModelUnavailable: anthropic is down" in out
    rows = triad.json("jobs", "--state", "dead", "--kind", "architect")
    assert [(r["id"], r["kind"], r["state"], r["attempts"], r["max_attempts"]) for r in rows] == [
        (ids.dead_job, "architect", "dead", 1, 5)
    ]
    assert rows[0]["due"] == "2023-11-14T22:13:20Z"  # the seed's clock, ISO 8601 in UTC


async def test_dead_jobs_say_whether_a_human_was_told(seeded: Operated, triad: Triad) -> None:
    """An operator sees which deaths nobody on GitHub heard of (`no`: the sweep has yet to
    tell, `log`: there was nobody to tell) and which were said (`workflow`, `comment`)."""
    store, ids = seeded
    job = await store.get_job(ids.dead_job)
    assert job is not None and job.told == "no"
    await Recovery(store).mark_reported(job, TOLD_LOG)
    rows = await asyncio.to_thread(triad.json, "jobs", "--state", "dead")
    assert {r["kind"]: r["told"] for r in rows} == {"review": "no", "architect": "log"}


def test_jobs_show_gives_payload_attempts_and_last_error(seeded: Operated, triad: Triad) -> None:
    _, ids = seeded
    status, out, _ = triad("jobs", "show", str(ids.dead_job))
    assert status == 0
    assert "kind: architect" in out and "attempts: 1/5" in out and "state: dead" in out
    assert "  v = 1" in out and "last_error: ModelUnavailable: anthropic is down" in out
    shown = triad.json("jobs", "show", str(ids.dead_job))
    assert shown["payload"] == {"v": 1} and shown["key"] == "architect:octo/repo#12:v1"
    assert (shown["attempts"], shown["max_attempts"]) == (1, 5)
    assert shown["created"] == shown["finished"] == "2023-11-14T22:13:20Z"
    assert "delivery" not in shown
    status, _, err = triad("jobs", "show", "999")
    assert status == 2 and err == "triad: error: no job 999\n"


async def test_jobs_retry_queues_a_dead_letter_again(seeded: Operated, triad: Triad) -> None:
    store, ids = seeded
    status, out, _ = await asyncio.to_thread(
        triad, "jobs", "retry", str(ids.dead_job), str(ids.queued_job)
    )
    assert status == 1  # one of the two was not dead
    assert out.splitlines() == [
        f"job {ids.dead_job}: queued again",
        f"job {ids.queued_job}: not retried: it is queued, not dead",
    ]
    job = await store.get_job(ids.dead_job)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0


def test_jobs_show_of_a_delivery_job_says_what_was_delivered(
    seeded: Operated, triad: Triad
) -> None:
    _, ids = seeded
    status, out, _ = triad("jobs", "show", str(ids.done_job))
    assert status == 0
    assert out.endswith(
        "delivery:\n  event = issues\n  action = labeled\n  repository = octo/repo\n"
        "  sender = maya\n  outcome = queued\n  received = 2023-11-14 22:13\n"
    )
    shown = triad.json("jobs", "show", str(ids.done_job))
    assert shown["payload"] == {"delivery_id": "d-1"}
    assert shown["delivery"] == {
        "event": "issues",
        "action": "labeled",
        "repository": "octo/repo",
        "sender": "maya",
        "outcome": "queued",
        "received": "2023-11-14T22:13:20Z",
    }


async def test_jobs_retry_as_json(seeded: Operated, triad: Triad) -> None:
    _, ids = seeded
    status, out, _ = await asyncio.to_thread(
        triad, "jobs", "retry", "--json", str(ids.dead_job), str(ids.queued_job)
    )
    assert status == 1
    assert json.loads(out) == {
        "retried": [ids.dead_job],
        "not_retried": [{"id": ids.queued_job, "reason": "it is queued, not dead"}],
    }
    status, out, _ = await asyncio.to_thread(triad, "jobs", "--json", "retry", "--dead")
    assert status == 0 and json.loads(out) == {"retried": [ids.dead_review_job], "not_retried": []}


async def test_jobs_retry_dead_of_a_kind(seeded: Operated, triad: Triad) -> None:
    store, ids = seeded
    status, out, _ = await asyncio.to_thread(triad, "jobs", "retry", "--dead", "--kind", "review")
    assert status == 0 and out == f"queued again: {ids.dead_review_job}\n"
    dead = await store.list_jobs(JobState.DEAD)
    assert [job.id for job in dead] == [ids.dead_job]
    status, _, err = await asyncio.to_thread(triad, "jobs", "retry")
    assert status == 2 and "give job ids to retry, or --dead" in err


def test_workflows_by_stage_and_repository(seeded: Operated, triad: Triad) -> None:
    rows = triad.json("workflows")
    assert [(r["issue"], r["stage"], r["pr"]) for r in rows] == [
        ("acme/app#3", "design-proposed", None),
        ("octo/repo#12", "reviewing", 13),
    ]
    assert [r["issue"] for r in triad.json("workflows", "--stage", "reviewing")] == ["octo/repo#12"]
    assert [r["issue"] for r in triad.json("workflows", "--repo", "acme/app")] == ["acme/app#3"]
    status, out, _ = triad("workflows", "--stage", "done")
    assert status == 0 and out == "(no workflows)\n"


def test_workflow_shows_the_timeline_jobs_and_cost_by_role(seeded: Operated, triad: Triad) -> None:
    status, out, _ = triad("workflow", "octo/repo#12")
    assert status == 0
    assert out.startswith("octo/repo#12: reviewing, PR #13\n")
    timeline = out.split("timeline\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[2:5] for line in timeline[1:]] == [
        ["(start)", "designing", "DesignRequested"],
        ["designing", "design-proposed", "DesignProposed"],
        ["design-proposed", "reviewing", "DesignApproved"],
    ]
    assert "total: $2.00, 1980 tokens" in out
    document = triad.json("workflow", "octo/repo#12")
    assert [(c["role"], c["dollars"]) for c in document["cost_by_role"]] == [
        ("architect", 1.5),
        ("developer", 0.5),
    ]
    assert sorted(j["kind"] for j in document["jobs"]) == ["architect", "ci_watch", "delivery"]
    assert document["transitions"][2]["actions"] == "pending"
    assert document["transitions"][0]["at"] == "2023-11-14T22:13:20Z"
    assert {(j["attempts"], j["max_attempts"]) for j in document["jobs"]} >= {(1, 5)}
    status, _, err = triad("workflow", "octo/repo")
    assert status == 2 and "write OWNER/REPO#NUMBER" in err
    status, _, err = triad("workflow", "octo/repo#99")
    assert status == 2 and err == "triad: error: Triad has no workflow for octo/repo#99\n"


def test_usage_by_each_dimension(seeded: Operated, triad: Triad) -> None:
    by_installation = triad.json("usage", "--by", "installation")
    assert [(r["installation"], r["dollars"]) for r in by_installation] == [("5", 2.0), ("6", 0.25)]
    by_model = triad.json("usage", "--by", "model")
    assert by_model[0]["model"] == "anthropic/claude-opus-4-6"
    status, out, _ = triad("usage", "--by", "role")
    assert status == 0 and out.splitlines()[-1].split() == ["total", "3", "2200", "220", "2.2500"]
    assert triad.json("usage", "--since", "2099-01-01") == []
    assert len(triad.json("usage", "--since", "2020-01-01", "--by", "role")) == 3
    for since in (
        "last tuesday",
        "1000000000d",
        "\u0661\u0662d",
    ):  # past timedelta's days; not ASCII
        status, _, err = triad("usage", "--since", since)
        assert status == 2 and "give a date (2026-01-31) or days (7d)" in err, since


async def test_deliveries_listed_and_pruned(seeded: Operated, triad: Triad, clock: object) -> None:
    store, _ = seeded
    rows = await asyncio.to_thread(triad.json, "deliveries")
    assert {(r["delivery"], r["outcome"], r["job"], r["body"]) for r in rows} == {
        ("d-1", "queued", "done", "kept"),
        ("d-2", "ignored", "", "kept"),
        ("d-3", "ping", "", "kept"),
    }
    assert {r["received"] for r in rows} == {"2023-11-14T22:13:20Z"}
    status, out, _ = await asyncio.to_thread(triad, "deliveries", "prune", "--older-than", "0")
    assert status == 0 and out == "pruned the bodies of 3 deliveries older than 0 days\n"
    delivery = await store.get_delivery("d-1")
    assert delivery is not None and delivery.body == b"" and delivery.event == "issues"


def test_backup_of_sqlite_and_the_answer_for_postgresql(
    seeded: Operated, triad: Triad, store_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "backups" / "triad-backup.db"
    status, out, err = triad("backup", str(target))
    if store_url.startswith("postgresql"):
        assert status == 2 and "back it up with its own tool, e.g. `pg_dump" in err
        return
    assert status == 0 and out.startswith("backed up ")
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT COUNT(*) FROM workflows").fetchone() == (2,)
    status, _, err = triad("backup", str(target))
    assert status == 2 and "exists: give a new file name" in err


def test_a_backup_folder_that_cannot_be_created_is_one_line_naming_it(
    seeded: Operated, triad: Triad, store_url: str, tmp_path: Path
) -> None:
    if store_url.startswith("postgresql"):
        pytest.skip("SQLite's backup")
    (tmp_path / "taken").write_text("a file, not a folder")
    target = tmp_path / "taken" / "backups" / "triad.db"
    status, out, err = triad("backup", str(target))
    assert (status, out) == (2, "")
    assert err == (
        f"triad: error: cannot create the backup's folder {target.parent}: Not a directory\n"
    )


def test_a_backup_file_that_cannot_be_created_is_one_line_naming_it(
    seeded: Operated, triad: Triad, store_url: str, tmp_path: Path
) -> None:
    if store_url.startswith("postgresql"):
        pytest.skip("SQLite's backup")
    target = tmp_path / ("x" * 300 + ".db")  # refused even to root
    status, out, err = triad("backup", str(target))
    assert (status, out) == (2, "")
    assert err == f"triad: error: cannot create the backup {target}: File name too long\n"
    assert "triad.db" not in err  # the source is not blamed


def test_output_into_a_closed_pipe_ends_quietly(seeded: Operated, store_url: str) -> None:
    """`triad workflow X | head`: the reader goes away; no traceback, a shell's SIGPIPE status."""
    if store_url.startswith("postgresql"):
        pytest.skip("one backend shows it")
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "workflow", "octo/repo#12"],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, b"")


@pytest.mark.parametrize("command", ["jobs", "workflows", "workflow", "usage", "backup"])
def test_every_command_has_help(command: str, triad: Triad) -> None:
    with pytest.raises(SystemExit) as exited:
        triad(command, "--help")
    assert exited.value.code == 0


async def test_kind_before_retry_is_the_kind_retried(seeded: Operated, triad: Triad) -> None:
    store, ids = seeded
    status, out, _ = await asyncio.to_thread(
        triad, "jobs", "--kind", "architect", "retry", "--dead"
    )
    assert status == 0 and out == f"queued again: {ids.dead_job}\n"
    assert [job.id for job in await store.list_jobs(JobState.DEAD)] == [ids.dead_review_job]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["jobs", "--kind", "review", "retry", "--dead", "--kind", "architect"],
         "two kinds given (architect, review): give one --kind"),
        (["jobs", "retry", "1", "--kind", "review"],
         "--kind goes with --dead: job ids name their jobs already"),
        (["jobs", "--state", "dead", "retry", "--dead"],
         "--state filter the list: not for `jobs retry`"),
        (["jobs", "--kind", "review", "show", "1"], "--kind filter the list: not for `jobs show`"),
    ],
)  # fmt: skip
async def test_list_options_where_they_would_be_ignored_are_refused(
    seeded: Operated, triad: Triad, args: list[str], error: str
) -> None:
    store, _ = seeded
    status, out, err = await asyncio.to_thread(triad, *args)
    assert status == 2 and out == "" and err == f"triad: error: {error}\n"
    assert len(await store.list_jobs(JobState.DEAD)) == 2


def test_an_issue_number_out_of_range_is_one_line(seeded: Operated, triad: Triad) -> None:
    status, _, err = triad("workflow", "octo/repo#99999999999")
    assert status == 2 and "is not an issue: write OWNER/REPO#NUMBER" in err
    assert err.count("\n") == 1


async def test_stored_strings_reach_the_terminal_escaped(seeded: Operated, triad: Triad) -> None:
    store, _ = seeded
    hostile = "boom\x1b]0;pwned\x07\x1b[2J\u202eevil"
    job = await store.enqueue(NewJob("review", "review:octo/repo#12:9\x1b[31m", {"k\x1b": 1}))
    assert job is not None
    claimed = await store.claim("w", 30, ["review"])
    assert claimed is not None and claimed.id == job
    await store.fail(job, "w", hostile, retry_in=None)
    for command in (["jobs"], ["jobs", "show", str(job)], ["workflow", "octo/repo#12"]):
        status, out, _ = await asyncio.to_thread(triad, *command)
        assert status == 0
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, command
        if command != ["workflow", "octo/repo#12"]:
            assert "boom\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil" in out, command
    status, out, _ = await asyncio.to_thread(triad, "jobs", "show", str(job))
    assert "key: review:octo/repo#12:9\\x1b[31m" in out and "  k\\x1b = 1" in out


async def test_an_unreadable_delivery_is_replayed_once_triad_reads_it(
    seeded: Operated, triad: Triad
) -> None:
    store, _ = seeded
    user = {"login": "maya", "id": 1, "type": "User"}
    readable = {
        "action": "labeled",
        "issue": {"number": 7, "title": "t", "user": user, "labels": [{"name": "triad:design"}]},
        "label": {"name": "triad:design"},
        "repository": {"id": 9, "name": "repo", "full_name": "octo/repo", "owner": user},
        "sender": user,
        "installation": {"id": 42},
    }
    for delivery_id, payload in (("u-1", readable), ("u-2", {"action": "labeled"})):
        await store.record_delivery(
            Delivery(
                delivery_id, "issues", "labeled", 42, "octo/repo", "maya",
                DeliveryOutcome.UNREADABLE, json.dumps(payload).encode(), reason="an older Triad",
            )
        )  # fmt: skip
    status, out, _ = await asyncio.to_thread(triad, "deliveries", "replay", "u-1")
    assert (status, out) == (0, "u-1: queued\n")
    replayed = await store.get_delivery("u-1")
    assert replayed is not None and replayed.outcome is DeliveryOutcome.QUEUED
    assert any(job.idempotency_key == "delivery:u-1" for job in await store.list_jobs())
    status, _, err = await asyncio.to_thread(triad, "deliveries", "replay", "u-2")
    assert status == 2 and err.startswith("triad: error: u-2 still cannot be read: sender")
    status, _, err = await asyncio.to_thread(triad, "deliveries", "replay", "u-1")
    assert status == 2 and "not an unreadable or ignored delivery" in err

    hostile = dict(readable, action="x\x1b]0;PWNED\x07\x1b[2J")  # signed, so GitHub's words
    await store.record_delivery(
        Delivery(
            "u-3", "issues", "x", 42, "octo/repo", "maya", DeliveryOutcome.IGNORED,
            json.dumps(hostile).encode(), reason="no route",
        )
    )  # fmt: skip
    status, _, err = await asyncio.to_thread(triad, "deliveries", "replay", "u-3")
    assert status == 2 and "issues.x\\x1b]0;PWNED\\x07\\x1b[2J" in err and "\x1b" not in err
