"""`triad jobs | workflows | workflow | usage | deliveries | backup`: the operator's commands.

Each reads the store the servers use (TRIAD_DATABASE_URL, SQLite or PostgreSQL) and prints a
table, or JSON with `--json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.errors import TriadError
from bot.numbers import natural
from bot.ops.arguments import job_id, limit
from bot.ops.reports import parse_issue_ref, workflow_report
from bot.ops.tables import Cell, cell_text, dollars, emit, iso, moment, printable, when, write_json
from bot.settings import Settings
from bot.store import DeliveryOutcome, Job, JobState, Store
from bot.store.backup import backup_sqlite
from bot.store.configured import configured_store
from bot.store.deliveries import DeliveryLog
from bot.store.queue_admin import QueueAdmin
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.text import one_line
from bot.workflow.model import Stage

COMMANDS = ("jobs", "workflows", "workflow", "usage", "deliveries", "backup")
_USAGE_GROUPS = {
    "installation": ("installation_id",),
    "repository": ("repository",),
    "role": ("role",),
    "model": ("provider", "model"),
}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the operator commands on the `triad` parser's subcommands."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON instead of a table")

    jobs = commands.add_parser(
        "jobs", parents=[as_json], help="list, show and retry jobs (dead letters)"
    )
    jobs.add_argument("--state", choices=[s.value for s in JobState], help="only this state")
    jobs.add_argument(
        "--kind", help="only this kind (delivery, architect, developer, ...); with `retry --dead`"
    )
    jobs.add_argument("--limit", type=limit, default=100, help="newest N (default 100)")
    actions = jobs.add_subparsers(dest="jobs_action", metavar="ACTION")
    show = actions.add_parser("show", help="one job: payload, attempts, last error")
    show.add_argument("id", type=job_id)
    show.add_argument("--json", dest="show_json", action="store_true", help="print JSON")
    retry = actions.add_parser("retry", help="queue dead jobs again, due now")
    retry.add_argument("--json", dest="retry_json", action="store_true", help="print JSON")
    retry.add_argument("ids", type=job_id, nargs="*", metavar="ID")
    retry.add_argument("--dead", action="store_true", help="every dead job (of --kind)")
    # the same option as `jobs --kind`, accepted on either side of `retry`
    retry.add_argument("--kind", dest="retry_kind", help="with --dead: only this kind")

    workflows = commands.add_parser(
        "workflows", parents=[as_json], help="list workflows, by stage and repository"
    )
    workflows.add_argument("--stage", choices=[s.value for s in Stage])
    workflows.add_argument("--repo", help="OWNER/REPO")

    workflow = commands.add_parser(
        "workflow", parents=[as_json], help="one workflow: transitions, jobs, cost by role"
    )
    workflow.add_argument("issue", metavar="OWNER/REPO#N")

    usage = commands.add_parser("usage", parents=[as_json], help="model spend and tokens")
    usage.add_argument("--since", help="a date (2026-01-31) or a number of days (7d)")
    usage.add_argument("--by", choices=list(_USAGE_GROUPS), default="installation")

    deliveries = commands.add_parser(
        "deliveries", parents=[as_json], help="recent webhook deliveries; prune old bodies"
    )
    deliveries.add_argument("--outcome", choices=[o.value for o in DeliveryOutcome])
    deliveries.add_argument("--limit", type=limit, default=50, help="newest N (default 50)")
    delivery_actions = deliveries.add_subparsers(dest="deliveries_action", metavar="ACTION")
    prune = delivery_actions.add_parser(
        "prune", help="empty the bodies of deliveries older than DAYS (records stay)"
    )
    prune.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    replay = delivery_actions.add_parser(
        "replay",
        help="read an unreadable or ignored delivery again from its payload: queue it, or why not",
    )
    replay.add_argument("delivery", metavar="ID")

    backup = commands.add_parser(
        "backup", help="an online backup of the SQLite store (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("path", help="the new backup file")


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    """Run one operator command; the exit status (1 when something asked was not done)."""
    out = out or sys.stdout
    if args.command == "backup":
        return _backup(args, settings, out)
    handler = _HANDLERS[args.command]

    async def main(out: TextIO) -> int:
        async with configured_store(settings, migrate=False) as store:
            return await handler(store, args, out)

    return asyncio.run(main(out))


async def _jobs(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    queue = QueueAdmin(store)
    # options of the list are refused where they would be ignored
    ignored = ["--state"] if args.state else []
    if args.jobs_action == "show" and args.kind:
        ignored.append("--kind")
    if args.jobs_action and ignored:
        raise TriadError(
            f"{' and '.join(ignored)} filter the list: not for `jobs {args.jobs_action}`"
        )
    if args.jobs_action == "show":
        return await _show_job(store, args.id, out, args.json or args.show_json)
    if args.jobs_action == "retry":
        return await _retry(queue, args, out, args.json or args.retry_json)
    state = JobState(args.state) if args.state else None
    jobs = await queue.jobs(state, args.kind, args.limit)
    if args.json:
        write_json(out, [_job_json(j) for j in jobs])
        return 0
    rows: list[list[Cell]] = [
        [j.id, j.kind, j.state.value, f"{j.attempts}/{j.max_attempts}", when(j.run_at),
         j.told or "", one_line(j.last_error or "", 60)]
        for j in jobs
    ]  # fmt: skip
    # told: for a dead job, whether (and how) a human was told of its death
    columns = ["id", "kind", "state", "attempts", "due", "told", "last_error"]
    emit(out, columns, rows, as_json=args.json, empty="no jobs")
    return 0


async def _show_job(store: Store, job_id: int, out: TextIO, as_json: bool) -> int:
    job = await store.get_job(job_id)
    if job is None:
        raise TriadError(f"no job {job_id}")
    delivery = await _delivery_of(store, job)
    if as_json:
        document: dict[str, Any] = {
            **_job_json(job),
            "key": job.idempotency_key,
            "created": iso(job.created_at),
            "finished": iso(job.finished_at),
            "lease_owner": job.lease_owner,
            "lease_expires": iso(job.lease_expires_at) if job.lease_owner else None,
            "payload": job.payload,
        }
        if delivery is not None:
            document["delivery"] = delivery
        write_json(out, document)
        return 0
    fields: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "key": job.idempotency_key,
        "state": job.state.value,
        "attempts": f"{job.attempts}/{job.max_attempts}",
        "created": when(job.created_at),
        "due": when(job.run_at),
        "finished": when(job.finished_at),
        "lease": f"{job.lease_owner} until {when(job.lease_expires_at)}" if job.lease_owner else "",
        "payload": {key: one_line(json.dumps(value), 80) for key, value in job.payload.items()},
        "last_error": job.last_error or "",
    }
    for key, value in fields.items():
        if key == "payload":
            out.write("payload:\n")
            out.writelines(
                f"  {printable(name)} = {printable(text)}\n" for name, text in value.items()
            )
        else:
            out.write(f"{key}: {printable(str(value))}\n")
    if delivery is not None:
        out.write("delivery:\n")
        out.writelines(f"  {key} = {cell_text(value)}\n" for key, value in delivery.items())
    return 0


async def _delivery_of(store: Store, job: Job) -> dict[str, Cell] | None:
    """What a delivery job is about, from its delivery's row (its id alone says nothing)."""
    delivery_id = job.payload.get("delivery_id") if job.kind == "delivery" else None
    if not isinstance(delivery_id, str):
        return None
    delivery = await store.get_delivery(delivery_id)
    if delivery is None:
        return None
    return {
        "event": delivery.event,
        "action": delivery.action,
        "repository": delivery.repository,
        "sender": delivery.sender,
        "outcome": delivery.outcome.value,
        "received": moment(delivery.received_at),
    }


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "due": iso(job.run_at),
        "last_error": job.last_error,
        "told": job.told,
    }


async def _retry(queue: QueueAdmin, args: argparse.Namespace, out: TextIO, as_json: bool) -> int:
    if args.dead == bool(args.ids):
        raise TriadError("give job ids to retry, or --dead (optionally with --kind)")
    kinds = {kind for kind in (args.kind, args.retry_kind) if kind is not None}
    if len(kinds) > 1:
        raise TriadError(f"two kinds given ({', '.join(sorted(kinds))}): give one --kind")
    if kinds and not args.dead:
        raise TriadError("--kind goes with --dead: job ids name their jobs already")
    if args.dead:
        retried = await queue.retry_dead(kinds.pop() if kinds else None)
        if as_json:
            write_json(out, {"retried": retried, "not_retried": []})
        else:
            out.write(f"queued again: {', '.join(map(str, retried)) or 'none (no dead jobs)'}\n")
        return 0
    results = await queue.retry(args.ids)
    failed = [result for result in results if not result.retried]
    if as_json:
        write_json(
            out,
            {
                "retried": [result.job_id for result in results if result.retried],
                "not_retried": [{"id": r.job_id, "reason": r.reason} for r in failed],
            },
        )
    else:
        for result in results:
            if result.retried:
                out.write(f"job {result.job_id}: queued again\n")
            else:
                out.write(f"job {result.job_id}: not retried: {result.reason}\n")
    return 1 if failed else 0


async def _workflows(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    stage = Stage(args.stage) if args.stage else None
    found = await WorkflowStore(store).find(stage, args.repo)
    rows: list[list[Cell]] = [
        [f"{w.repository}#{w.issue_number}", w.stage.value, w.pr_number, w.design_version,
         w.round, w.escalation or ""]
        for w in found
    ]  # fmt: skip
    columns = ["issue", "stage", "pr", "design", "round", "escalation"]
    emit(out, columns, rows, as_json=args.json, empty="no workflows")
    return 0


async def _workflow(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    try:
        repository, number = parse_issue_ref(args.issue)
    except ValueError as exc:
        raise TriadError(str(exc)) from None
    report = await workflow_report(store, repository, number)
    if report is None:
        raise TriadError(f"Triad has no workflow for {repository}#{number}")
    w = report.workflow
    transitions: list[list[Cell]] = [
        [moment(t.at), t.from_stage or "(start)", t.to_stage or "(none)", t.cause, t.actor,
         t.reason, "done" if t.actions_done else "pending"]
        for t in report.transitions
    ]  # fmt: skip
    jobs: list[list[Cell]] = [
        [j.id, j.kind, j.state.value, f"{j.attempts}/{j.max_attempts}",
         one_line(j.last_error or "", 50)]
        for j in report.jobs
    ]  # fmt: skip
    cost: list[list[Cell]] = [
        [role, t.calls, t.tokens, round(t.cost, 4)] for role, t in report.cost_by_role
    ]
    if args.json:
        document = {
            "issue": f"{w.repository}#{w.issue_number}",
            "stage": w.stage.value,
            "pr": w.pr_number,
            "transitions": _objects(
                ["at", "from", "to", "cause", "actor", "reason", "actions"], transitions
            ),
            "jobs": [_job_json(j) for j in report.jobs],
            "cost_by_role": _objects(["role", "calls", "tokens", "dollars"], cost),
            "total_dollars": round(report.total.cost, 4),
        }
        write_json(out, document)
        return 0
    pr = f", PR #{w.pr_number}" if w.pr_number else ""
    out.write(printable(f"{w.repository}#{w.issue_number}: {w.stage.value}{pr}") + "\n")
    if w.escalation:
        out.write(f"escalation: {printable(w.escalation)}\n")
    out.write("\ntimeline\n")
    columns = ["at", "from", "to", "cause", "actor", "reason", "actions"]
    emit(out, columns, transitions, as_json=False)
    out.write("\njobs\n")
    emit(out, ["id", "kind", "state", "attempts", "last_error"], jobs, as_json=False)
    out.write("\ncost by role\n")
    emit(out, ["role", "calls", "tokens", "dollars"], cost, as_json=False, empty="no model calls")
    out.write(f"total: {dollars(report.total.cost)}, {report.total.tokens} tokens\n")
    return 0


async def _usage(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    since = _since(args.since, store.clock()) if args.since else None
    columns_by = _USAGE_GROUPS[args.by]
    grouped = await UsageStore(store).grouped(columns_by, since=since)
    rows: list[list[Cell]] = [
        ["/".join(str(part) for part in key), t.calls, t.input_tokens, t.output_tokens,
         round(t.cost, 4)]
        for key, t in grouped
    ]  # fmt: skip
    if not args.json and grouped:
        totals = [t for _, t in grouped]
        rows.append(
            ["total", sum(t.calls for t in totals), sum(t.input_tokens for t in totals),
             sum(t.output_tokens for t in totals), round(sum(t.cost for t in totals), 4)]
        )  # fmt: skip
    columns = [args.by, "calls", "input_tokens", "output_tokens", "dollars"]
    emit(out, columns, rows, as_json=args.json, empty="no model calls")
    return 0


async def _deliveries(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    log = DeliveryLog(store)
    if args.deliveries_action == "prune":
        if not args.older_than >= 0:
            raise TriadError("--older-than must be a number of days, 0 or more")
        pruned = await log.prune_bodies(args.older_than)
        out.write(f"pruned the bodies of {pruned} deliveries older than {args.older_than:g} days\n")
        return 0
    if args.deliveries_action == "replay":
        return await _replay(store, args.delivery, out)
    outcome = DeliveryOutcome(args.outcome) if args.outcome else None
    rows: list[list[Cell]] = [
        [moment(d.received_at), d.id, f"{d.event}.{d.action}" if d.action else d.event,
         d.repository, d.outcome.value, d.job_state.value if d.job_state else "",
         "pruned" if d.body_pruned else "kept"]
        for d in await log.recent(args.limit, outcome)
    ]  # fmt: skip
    columns = ["received", "delivery", "event", "repository", "outcome", "job", "body"]
    emit(out, columns, rows, as_json=args.json, empty="no deliveries")
    return 0


#: what `triad deliveries replay` takes: a delivery Triad could not read, or one it dropped
REPLAYABLE = (DeliveryOutcome.UNREADABLE, DeliveryOutcome.IGNORED)


async def _replay(store: Store, delivery_id: str, out: TextIO) -> int:
    """An unreadable or ignored delivery through this Triad's routing table from its payload
    alone: the store's facts (a cached config that may have been stale) are not consulted, so
    a delivery dropped on them is queued and its job decides with a fresh read."""
    from bot.web.webhooks import classify_stored  # the routing table: not for `--help`

    delivery = await store.get_delivery(delivery_id)
    if delivery is None or delivery.outcome not in REPLAYABLE:
        raise TriadError(f"{delivery_id} is not an unreadable or ignored delivery in the store")
    outcome, reason, job = classify_stored(delivery)
    if outcome is DeliveryOutcome.UNREADABLE:
        raise TriadError(f"{delivery_id} still cannot be read: {reason}")
    if outcome is DeliveryOutcome.IGNORED and delivery.outcome is DeliveryOutcome.IGNORED:
        raise TriadError(f"{delivery_id} is still dropped at the door: {reason}")
    if not await DeliveryLog(store).readmit(delivery_id, delivery.outcome, outcome, reason, job):
        raise TriadError(f"{delivery_id} changed while it was replayed: try again")
    said = f"{delivery_id}: {outcome.value}" + (f" ({reason})" if reason else "")
    out.write(printable(said) + "\n")
    return 0


def _backup(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    url = settings.database_url
    if not url.startswith("sqlite:///"):
        raise TriadError(
            "the store is PostgreSQL: back it up with its own tool, e.g. "
            '`pg_dump --format=custom --file triad.dump "$TRIAD_DATABASE_URL"`, '
            'and restore with `pg_restore --clean --dbname "$TRIAD_DATABASE_URL" triad.dump`'
        )
    size = backup_sqlite(url.removeprefix("sqlite:///"), args.path)
    out.write(f"backed up {url.removeprefix('sqlite:///')} to {args.path} ({size} bytes)\n")
    return 0


def _since(text: str, now: float) -> float:
    """`7d` (days back from now) or an ISO date or time (UTC unless it says otherwise)."""
    wrong = TriadError(f"--since {text!r}: give a date (2026-01-31) or days (7d)")
    if text.endswith("d") and (days := natural(text[:-1])) is not None:
        try:
            return now - timedelta(days=days).total_seconds()
        except OverflowError:  # over 999,999,999 days
            raise wrong from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise wrong from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _objects(columns: list[str], rows: list[list[Cell]]) -> list[dict[str, Cell]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


_HANDLERS: dict[str, Callable[[Store, argparse.Namespace, TextIO], Awaitable[int]]] = {
    "jobs": _jobs,
    "workflows": _workflows,
    "workflow": _workflow,
    "usage": _usage,
    "deliveries": _deliveries,
}
