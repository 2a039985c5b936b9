"""What CI reported on a commit, read from GitHub; the verdict itself is `ci.ci_verdict`."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.errors import GitHubError
from bot.github.checkruns import own_slug
from bot.github.ci import LOG_TAIL_CHARS, CiReports, CiVerdict, CommitStatus, Run, Suite, ci_verdict
from bot.github.repo import Repo
from bot.numbers import DIGITS, natural

if TYPE_CHECKING:
    from githubkit_schemas.latest.models import CombinedCommitStatus

log = logging.getLogger(__name__)
#: GitHub Actions check runs link to their job: .../actions/runs/<run>/job/<job id>
_JOB_URL = re.compile(rf"/actions/runs/{DIGITS}/job/({DIGITS})")


async def verdict(repo: Repo, sha: str) -> CiVerdict:
    """The CI verdict on `sha` now (no waiting): see `ci.ci_verdict`."""
    return ci_verdict(await ci_reports(repo, sha))


async def ci_reports(repo: Repo, sha: str) -> CiReports:
    """Every check suite and commit status on `sha`, and what each failed run said; while a
    suite still runs, its suites only (nothing more can change the verdict). Triad's own
    check run is not CI: it is left out."""
    reports = CiReports(await _suites(repo, sha))
    if reports.suites_running:
        return reports
    rest = repo.github.rest
    listed = (
        await rest.checks.async_list_for_ref(repo.owner, repo.name, sha, per_page=100)
    ).parsed_data.check_runs
    runs = []
    for data in listed:
        if data.app is not None and data.app.slug == own_slug(repo):
            continue
        run = Run(
            id=data.id,
            name=data.name,
            status=data.status,
            conclusion=data.conclusion or "",
            title=data.output.title or "",
            summary=data.output.summary or "",
            text=data.output.text or "",
            details_url=data.details_url or "",
        )
        if run.failed:
            run = replace(
                run, annotations=await _annotations(repo, run.id), log=await _log(repo, run)
            )
        runs.append(run)
    combined = await _combined(repo, sha)
    statuses = tuple(
        CommitStatus(s.context, s.state, s.description or "", s.target_url or "")
        for s in combined.statuses
    )
    state = combined.state if combined.total_count else ""  # "pending" when nothing reported
    return replace(reports, runs=tuple(runs), combined_state=state, statuses=statuses)


async def reports_on(repo: Repo, sha: str) -> bool:
    """Whether any CI reported on `sha` (check suites with runs, or commit statuses)."""
    if any(suite.counts for suite in await _suites(repo, sha)):
        return True
    return (await _combined(repo, sha)).total_count > 0


def has_ci(paths: list[str]) -> bool:
    """Whether the repository defines GitHub Actions workflows (other CI shows up as check
    suites or statuses on the default branch: `reports_on`)."""
    return any(p.startswith(".github/workflows/") and p.endswith((".yml", ".yaml")) for p in paths)


async def _suites(repo: Repo, sha: str) -> tuple[Suite, ...]:
    found = (
        await repo.github.rest.checks.async_list_suites_for_ref(
            repo.owner, repo.name, sha, per_page=100
        )
    ).parsed_data.check_suites
    mine = own_slug(repo)
    return tuple(
        Suite(s.status or "", s.conclusion or "", s.latest_check_runs_count)
        for s in found
        if s.app is None or s.app.slug != mine
    )


async def _combined(repo: Repo, sha: str) -> CombinedCommitStatus:
    rest = repo.github.rest
    return (
        await rest.repos.async_get_combined_status_for_ref(repo.owner, repo.name, sha)
    ).parsed_data


async def _annotations(repo: Repo, run_id: int) -> tuple[str, ...]:
    rest = repo.github.rest
    found = (
        await rest.checks.async_list_annotations(repo.owner, repo.name, run_id, per_page=50)
    ).parsed_data
    return tuple(f"{a.path}:{a.start_line}: {a.annotation_level}: {a.message}" for a in found)


def actions_job(details_url: str) -> int | None:
    """The Actions job a check run's `details_url` names (any App's run may say anything)."""
    found = _JOB_URL.search(details_url)
    return natural(found.group(1)) if found else None


async def _log(repo: Repo, run: Run) -> str:
    """An Actions job's log tail (its check run's output is usually empty); "" when there is
    none or GitHub will not give it."""
    job = actions_job(run.details_url)
    if job is None:
        return ""
    try:
        response = await repo.github.rest.actions.async_download_job_logs_for_workflow_run(
            repo.owner, repo.name, job
        )
    except GitHubError as exc:
        log.info("job log unavailable", extra={"job": job, "error": str(exc)})
        return ""
    return response.text[-LOG_TAIL_CHARS:]
