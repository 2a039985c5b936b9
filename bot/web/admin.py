"""The admin page (`/admin` on the admin port): workflows by stage, one workflow's state
diagram, spend by installation and role over time, the queue with its dead letters (and a
retry button), recent deliveries by outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.numbers import MAX_ID, MAX_ISSUE_NUMBER, natural
from bot.ops.reports import issue_url, pull_url, workflow_report
from bot.ops.tables import dollars, when
from bot.store import Job, JobState
from bot.store.deliveries import DAY, DeliveryLog
from bot.store.queue_admin import NO_SUCH_JOB, QueueAdmin
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.web.admin_auth import CsrfForm, Guarded, csrf_token
from bot.web.admin_html import counts, escape, link, page, table
from bot.web.context import AppContext, Context
from bot.web.state_diagram import state_diagram
from bot.workflow.model import Stage

router = APIRouter(prefix="/admin")
SPEND_DAYS = 30
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]
IssueNumber = Annotated[int, Path(ge=1, le=MAX_ISSUE_NUMBER)]
#: what a retry redirect may say: the page words it, the address only picks (never free text)
_RETRIED = {
    "queued": "Job {job} queued again.",
    "not-dead": "Job {job} not retried: it is not dead.",
    "no-such-job": "Job {job} not retried: no such job.",
    "all": "{count} dead jobs queued again.",
}


@router.get("", response_class=HTMLResponse)
async def overview(
    context: Context, _: Guarded, retried: str = "", job: str = "", count: str = ""
) -> HTMLResponse:
    body = (
        _flash(retried, job, count)
        + await _workflows(context)
        + await _spend(context)
        + await _queue(context)
        + await _deliveries(context)
    )
    return page("Overview", body, logout=_logout(context))


@router.get("/workflows/{owner}/{name}/{number}", response_class=HTMLResponse)
async def workflow(
    context: Context, _: Guarded, owner: str, name: str, number: IssueNumber
) -> HTMLResponse:
    report = await workflow_report(context.store, f"{owner}/{name}", number)
    if report is None:
        return page("No such workflow", "<p>Triad has no workflow for this issue.</p>", status=404)
    w = report.workflow
    web = context.github_web_url
    pr = pull_url(web, w)
    facts = (
        f"<p>Stage <b>{escape(w.stage.value)}</b> · issue {link(issue_url(web, w), f'#{number}')}"
        + (f" · PR {link(pr, f'#{w.pr_number}')}" if pr else "")
        + f" · design v{w.design_version} · round {w.round}"
        + f" · spent {escape(dollars(report.total.cost))}</p>"
        + (f'<p class="error">Escalation: {escape(w.escalation)}</p>' if w.escalation else "")
    )
    timeline = table(
        ["#", "at", "from", "to", "cause", "actor", "reason", "actions"],
        [
            [
                str(n),
                escape(when(t.at)),
                escape(t.from_stage or "(start)"),
                escape(t.to_stage or "(none)"),
                escape(t.cause),
                escape(t.actor),
                escape(t.reason),
                "done" if t.actions_done else "pending",
            ]
            for n, t in enumerate(report.transitions, start=1)
        ],
        id="timeline",
    )
    jobs = table(
        ["id", "kind", "state", "attempts", "last error", ""],
        [
            _job_row(context, j.id, j.kind, j.state, j.attempts, j.max_attempts, j.last_error)
            for j in report.jobs
        ],
        empty="No jobs.",
    )
    cost = table(
        ["role", "calls", "tokens", "dollars"],
        [
            [escape(role), str(t.calls), str(t.tokens), escape(dollars(t.cost))]
            for role, t in report.cost_by_role
        ],
        numeric=(1, 2, 3),
        empty="No model calls.",
    )
    body = (
        facts
        + f"<section><h2>State diagram</h2>{state_diagram(report.transitions, w.stage.value)}"
        + f"</section><section><h2>Timeline</h2>{timeline}</section>"
        + f"<section><h2>Jobs</h2>{jobs}</section><section><h2>Cost by role</h2>{cost}</section>"
    )
    return page(f"{owner}/{name}#{number}", body, logout=_logout(context))


@router.post("/jobs/{job_id}/retry")
async def retry(context: Context, _: Guarded, __: CsrfForm, job_id: JobId) -> Response:
    [result] = await QueueAdmin(context.store).retry([job_id])
    if result.retried:
        outcome = "queued"
    else:
        outcome = "no-such-job" if result.reason == NO_SUCH_JOB else "not-dead"
    return RedirectResponse(f"/admin?retried={outcome}&job={job_id}#queue", status_code=303)


@router.post("/jobs/retry-dead")
async def retry_dead(context: Context, _: Guarded, __: CsrfForm) -> Response:
    retried = await QueueAdmin(context.store).retry_dead()
    return RedirectResponse(f"/admin?retried=all&count={len(retried)}#queue", status_code=303)


def _flash(retried: str, job: str, count: str) -> str:
    """A retry's outcome, worded from `_RETRIED` with a number; anything else shows nothing."""
    template = _RETRIED.get(retried)
    number = count if retried == "all" else job
    value = natural(number)
    if template is None or value is None:
        return ""
    message = template.format(job=value, count=value)
    return f'<p class="flash" id="flash">{escape(message)}</p>'


async def _workflows(context: AppContext) -> str:
    store = WorkflowStore(context.store)
    by_stage = await store.stage_counts()
    web = context.github_web_url
    rows = [
        [link(f"/admin/workflows/{w.repository}/{w.issue_number}",
              f"{w.repository}#{w.issue_number}"),
         escape(w.stage.value), link(issue_url(web, w), "issue"),
         link(pull_url(web, w), f"PR #{w.pr_number}") if w.pr_number else "",
         escape(w.escalation)]
        for w in await store.find(limit=200)
    ]  # fmt: skip
    return (
        '<section id="workflows"><h2>Workflows by stage</h2>'
        + counts([(s.value, by_stage[s]) for s in Stage if by_stage[s]])
        + table(
            ["workflow", "stage", "issue", "pull request", "escalation"],
            rows,
            empty="No workflows yet.",
            id="workflow-list",
        )
        + "</section>"
    )


async def _spend(context: AppContext) -> str:
    usage = UsageStore(context.store)
    since = context.store.clock() - SPEND_DAYS * DAY
    daily = await usage.daily(since)
    top = max((t.cost for _, _, t in daily), default=0.0) or 1.0
    rows = [
        [escape(datetime.fromtimestamp(day * DAY, UTC).date().isoformat()),
         escape(installation), escape(role), str(t.calls), str(t.tokens),
         escape(dollars(t.cost)),
         f'<span class="bar" style="width:{max(1, round(120 * t.cost / top))}px"></span>']
        for day, (installation, role), t in daily
    ]  # fmt: skip
    totals = await usage.grouped(("installation_id", "role"), since=since)
    total_rows = [
        [escape(installation), escape(role), str(t.calls), str(t.tokens), escape(dollars(t.cost))]
        for (installation, role), t in totals
    ]
    return (
        f'<section id="spend"><h2>Spend by installation and role, last {SPEND_DAYS} days</h2>'
        + table(
            ["installation", "role", "calls", "tokens", "dollars"],
            total_rows,
            numeric=(2, 3, 4),
            empty="No model calls.",
            id="spend-totals",
        )
        + "<h3>By day</h3>"
        + table(
            ["day", "installation", "role", "calls", "tokens", "dollars", ""],
            rows,
            numeric=(3, 4, 5),
            empty="No model calls.",
            id="spend-daily",
        )
        + "</section>"
    )


async def _queue(context: AppContext) -> str:
    job_counts = await context.store.job_counts()
    queue = QueueAdmin(context.store)
    dead = await queue.jobs(JobState.DEAD, limit=100)
    waiting = await queue.jobs(JobState.QUEUED, limit=20) + await queue.jobs(
        JobState.RUNNING, limit=20
    )
    retry_all = (
        f'<form method="post" action="/admin/jobs/retry-dead">{_csrf(context)}'
        f'<button type="submit" id="retry-all">Retry all {len(dead)} dead jobs</button></form>'
        if dead
        else ""
    )
    columns = ["id", "kind", "state", "attempts", "last error", ""]
    # told: whether (and how) a human was told of the death (see `Job.told`)
    dead_columns = ["id", "kind", "state", "attempts", "told", "last error", ""]
    return (
        '<section id="queue"><h2>Queue</h2>'
        + counts([(s.value, job_counts[s]) for s in JobState], {"dead": "dead"})
        + "<h3>Dead letters</h3>"
        + table(
            dead_columns,
            [_dead_row(context, j) for j in dead],
            empty="No dead jobs.",
            id="dead-letters",
        )
        + retry_all
        + "<h3>Queued and running</h3>"
        + table(
            columns,
            [
                _job_row(context, j.id, j.kind, j.state, j.attempts, j.max_attempts, j.last_error)
                for j in waiting
            ],
            empty="Nothing queued or running.",
            id="waiting",
        )
        + "</section>"
    )


async def _deliveries(context: AppContext) -> str:
    log = DeliveryLog(context.store)
    by_outcome = await log.counts_by_outcome()
    rows = [
        [escape(when(d.received_at)), escape(d.id),
         escape(f"{d.event}.{d.action}" if d.action else d.event), escape(d.repository),
         escape(d.outcome.value), escape(d.job_state.value if d.job_state else ""),
         "pruned" if d.body_pruned else "kept"]
        for d in await log.recent(30)
    ]  # fmt: skip
    return (
        '<section id="deliveries"><h2>Recent deliveries by outcome</h2>'
        + counts([(o.value, n) for o, n in by_outcome.items()])
        + table(
            ["received", "delivery", "event", "repository", "outcome", "job", "body"],
            rows,
            empty="No deliveries yet.",
            id="delivery-list",
        )
        + "</section>"
    )


def _dead_row(context: AppContext, job: Job) -> list[str]:
    """A dead letter's row, with whether a human was told of it."""
    row = _job_row(
        context, job.id, job.kind, job.state, job.attempts, job.max_attempts, job.last_error
    )
    return [*row[:4], escape(job.told or ""), *row[4:]]


def _job_row(
    context: AppContext,
    job_id: int,
    kind: str,
    state: JobState,
    attempts: int,
    max_attempts: int,
    error: str | None,
) -> list[str]:
    button = ""
    if state is JobState.DEAD:
        button = (
            f'<form method="post" action="/admin/jobs/{job_id}/retry">{_csrf(context)}'
            f'<button type="submit" data-job="{job_id}">Retry</button></form>'
        )
    css = ' class="dead"' if state is JobState.DEAD else ""
    return [
        str(job_id),
        escape(kind),
        f"<span{css}>{escape(state.value)}</span>",
        f"{attempts}/{max_attempts}",
        escape((error or "")[-300:]),
        button,
    ]


def _csrf(context: AppContext) -> str:
    return f'<input type="hidden" name="csrf" value="{csrf_token(context)}">'


def _logout(context: AppContext) -> str:
    if context.admin_token is None:
        return ""
    return (
        f'<form method="post" action="/admin/logout">{_csrf(context)}'
        '<button type="submit">Sign out</button></form>'
    )
