"""`/triad status`: where the workflow stands, and what it has cost so far."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store import Store
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Target, WorkflowKind


async def status_report(store: Store, target: Target) -> str:
    workflows = WorkflowStore(store)
    workflow = await workflows.get(target.repository, target.issue_number)
    if workflow is None:
        return "Triad has no workflow on this issue yet."
    lines = [f"**Triad status** for #{target.issue_number}: `{workflow.stage}`", ""]
    if workflow.kind is WorkflowKind.PULL:
        reviewed = f" (last reviewed {workflow.reviewed_sha[:7]})" if workflow.reviewed_sha else ""
        lines.append(f"- review rounds: {workflow.review_round}{reviewed}")
    else:
        lines.append(f"- design version: v{workflow.design_version}")
    if workflow.approved_version:
        lines.append(f"- approved: v{workflow.approved_version}")
    if workflow.pr_number:
        lines.append(f"- pull request: #{workflow.pr_number} (developer rounds: {workflow.round})")
    if workflow.escalation:
        lines.append(f"- waiting for a human: {workflow.escalation}")
    if workflow.id is not None:
        totals = await UsageStore(store).totals(workflow.id)
        lines.append(f"- cost so far: ${totals.cost:.2f} ({totals.tokens:,} tokens)")
    history = await workflows.history(target.repository, target.issue_number)
    moves = [t for t in history if t.from_stage != t.to_stage]
    if moves:
        lines += ["", "| when | change | why |", "|---|---|---|"]
        for move in moves[-10:]:
            when = datetime.fromtimestamp(move.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            change = f"{move.from_stage or '—'} → {move.to_stage}"
            lines.append(f"| {when} | {change} | {move.reason} |")
    return "\n".join(lines)
