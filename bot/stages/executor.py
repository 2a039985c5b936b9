"""Carry out the engine's actions on GitHub and in the queue, each idempotently."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.errors import GitHubForbidden, GitHubNotFound, GitHubRefused
from bot.github import checkruns, pulls
from bot.github.repo import LabelSpec, Repo
from bot.repo_config import Labels, RepoConfig
from bot.stages.progress import update_progress
from bot.store import NewJob, Store
from bot.store.refusals import RefusalLog
from bot.store.workflows import WorkflowStore
from bot.workflow import messages
from bot.workflow.actions import (
    PULL,
    Action,
    AddLabel,
    EnsureLabels,
    MarkReady,
    MergePull,
    PostComment,
    Refuse,
    RemoveLabel,
    ReportStatus,
    RunStage,
    SetCheckRun,
    UpdateProgress,
)

log = logging.getLogger(__name__)

StatusReport = Callable[[], Awaitable[str]]


def label_specs(labels: Labels) -> list[LabelSpec]:
    """Triad's labels, with colours and descriptions, as created on a repository."""
    return [
        LabelSpec(labels.design, "5319e7", "Triad: ask the architect for a design"),
        LabelSpec(labels.design_proposed, "c5def5", "Triad: a design waits for approval"),
        LabelSpec(labels.approved, "0e8a16", "Triad: approve the proposed design (writers)"),
        LabelSpec(labels.review, "fbca04", "Triad: start the two reviewers"),
        LabelSpec(labels.ready_for_qa, "1d76db", "Triad: both reviewers approve; human QA next"),
        LabelSpec(labels.qa_passed, "0e8a16", "Triad: human QA passed"),
        LabelSpec(labels.qa_failed, "d93f0b", "Triad: human QA failed (say why in a comment)"),
        LabelSpec(labels.needs_human, "b60205", "Triad: a human must decide before it goes on"),
    ]


async def carry_out(  # noqa: PLR0913 - the transition's context, then keyword-only tuning
    actions: tuple[Action, ...],
    repo: Repo,
    issue_number: int,
    store: Store,
    config: RepoConfig,
    status_report: StatusReport,
    pull_number: int | None = None,
    *,
    still_held: Callable[[], Awaitable[bool]] | None = None,
    installation_id: int | None = None,
) -> bool:
    """`pull_number` is the workflow's PR: actions `on` PULL go there (the issue if none).
    `installation_id` is the installation a refusal counts against.

    Before each action `still_held` is asked whether the caller may still act (it holds the
    transition's claim); False when it stopped because it may not: the new holder acts."""
    for action in actions:
        if still_held is not None and not await still_held():
            return False
        try:
            await _carry_out_one(
                action,
                repo,
                issue_number,
                pull_number,
                installation_id,
                store,
                config,
                status_report,
            )
        except (GitHubNotFound, GitHubForbidden, GitHubRefused) as exc:
            # GitHub will never take it (a deleted or locked issue, a refused label): retrying
            # would block every later event of the workflow, so it is skipped, visibly
            log.warning(
                "GitHub refused an action: skipped",
                extra={"action": type(action).__name__, "error": str(exc)},
            )
    return True


async def _carry_out_one(
    action: Action,
    repo: Repo,
    issue_number: int,
    pull_number: int | None,
    installation_id: int | None,
    store: Store,
    config: RepoConfig,
    status_report: StatusReport,
) -> None:
    def where(on: str) -> int:
        return pull_number if on == PULL and pull_number else issue_number

    match action:
        case PostComment(key=key, body=body, on=on):
            await repo.comment_once(where(on), key, body)
        case Refuse(login=login, body=body, source=source, on=on):
            refusals = RefusalLog(store)
            if await refusals.note(
                repo.full_name, issue_number, login, source, installation_id=installation_id
            ):
                await repo.comment_once(where(on), f"refused:{login}:{source}", body)
            else:
                log.info(
                    "refusal not said: said on this issue today, or the person's refusals"
                    " for today are used up",
                    extra={"repository": repo.full_name, "issue": issue_number, "login": login},
                )
        case AddLabel(name=name, on=on):
            await repo.add_label(where(on), name)
        case RemoveLabel(name=name, on=on):
            await repo.remove_label(where(on), name)
        case MergePull(head_sha=sha):
            refused = await pulls.merge(repo, pull_number, sha) if pull_number else "no PR"
            if refused:
                await repo.comment_once(
                    where(PULL), f"merge-refused:{sha}", messages.merge_refused(refused)
                )
        case MarkReady():
            pull = await pulls.get_pull(repo, pull_number) if pull_number else None
            if pull is not None and pull.draft:
                await pulls.mark_ready(repo, pull.node_id)
        case EnsureLabels():
            created = await repo.ensure_labels(label_specs(config.labels))
            if created:
                log.info("labels created", extra={"repository": repo.full_name, "labels": created})
        case RunStage(kind=kind, key=key, payload=payload, delay_seconds=delay):
            job_id = await store.enqueue(
                NewJob(kind=kind, idempotency_key=key, payload=payload, delay_seconds=delay)
            )
            log.info(
                "stage queued" if job_id else "stage already queued",
                extra={"kind": kind, "key": key},
            )
        case SetCheckRun():
            await checkruns.set_check_run(
                repo,
                action.head_sha,
                str(issue_number),  # the workflow a button or a re-run is for
                title=action.title,
                summary=action.summary,
                conclusion=action.conclusion,
                text=action.text,
                buttons=action.buttons,
                keep_summary=action.keep_summary,
            )
        case ReportStatus(key=key):
            await repo.comment_once(issue_number, key, await status_report())
        case UpdateProgress():
            # the workflow as it stands now: a late update never shows an older state
            now = await WorkflowStore(store).get(repo.full_name, issue_number)
            if now is not None:
                await update_progress(store, repo, now, config)
