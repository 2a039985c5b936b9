"""The repository's CI verdict on a commit, and what the failing checks said."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from githubkit.exception import GitHubException

from bot.github.repo import Repo

log = logging.getLogger(__name__)
#: GitHub Actions check runs link to their job: .../actions/runs/<run>/job/<job id>
_JOB_URL = re.compile(r"/actions/runs/\d+/job/(\d+)")

PASSING = frozenset({"success", "neutral", "skipped"})
LOG_TAIL_CHARS = 3_000
MAX_ANNOTATIONS = 20


@dataclass(frozen=True)
class FailedCheck:
    name: str
    conclusion: str
    title: str
    summary: str
    log_tail: str
    annotations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CiVerdict:
    """`finished` is False while a suite still runs; `passed` only counts when finished."""

    finished: bool
    passed: bool
    failures: list[FailedCheck]

    def report(self) -> str:
        """The failing checks as the developer reads them (untrusted text: it is fenced)."""
        parts = []
        for check in self.failures:
            lines = [f"## {check.name}: {check.conclusion}"]
            if check.title:
                lines.append(check.title)
            if check.summary:
                lines.append(check.summary)
            if check.annotations:
                lines += ["Annotations:", *check.annotations]
            if check.log_tail:
                lines += ["Output (tail):", check.log_tail]
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


async def verdict(repo: Repo, sha: str) -> CiVerdict:
    """Wait-free read of every check suite and commit status on `sha`: finished only when
    something reported and nothing is still running (suites with no runs never finish)."""
    rest = repo.github.rest
    suites = (
        await rest.checks.async_list_suites_for_ref(repo.owner, repo.name, sha, per_page=100)
    ).parsed_data.check_suites
    suites = [s for s in suites if (s.latest_check_runs_count or 0) > 0]
    if any(s.status != "completed" for s in suites):
        return CiVerdict(False, False, [])
    runs = (
        await rest.checks.async_list_for_ref(repo.owner, repo.name, sha, per_page=100)
    ).parsed_data.check_runs
    failures = []
    for run in runs:
        if run.status != "completed" or (run.conclusion or "") in PASSING:
            continue
        notes = (
            await rest.checks.async_list_annotations(repo.owner, repo.name, run.id, per_page=50)
        ).parsed_data
        failures.append(
            FailedCheck(
                name=run.name,
                conclusion=run.conclusion or "unknown",
                title=run.output.title or "",
                summary=run.output.summary or "",
                log_tail=(await _log_tail(repo, run.details_url) or run.output.text or "")[
                    -LOG_TAIL_CHARS:
                ],
                annotations=[
                    f"{a.path}:{a.start_line}: {a.annotation_level}: {a.message}"
                    for a in notes[:MAX_ANNOTATIONS]
                ],
            )
        )
    combined = (
        await rest.repos.async_get_combined_status_for_ref(repo.owner, repo.name, sha)
    ).parsed_data
    if combined.total_count and combined.state == "pending":
        return CiVerdict(False, False, [])
    if not suites and not combined.total_count:
        return CiVerdict(False, False, [])  # nothing has reported on this commit yet
    for status in combined.statuses:
        if status.state in ("failure", "error"):
            failures.append(
                FailedCheck(
                    name=status.context,
                    conclusion=status.state,
                    title=status.description or "",
                    summary=status.target_url or "",
                    log_tail="",
                )
            )
    conclusions = [s.conclusion or "" for s in suites]
    passed = all(c in PASSING for c in conclusions) and not failures
    return CiVerdict(True, passed, failures)


async def reports_on(repo: Repo, sha: str) -> bool:
    """Whether any CI reported on `sha` (check suites with runs, or commit statuses)."""
    rest = repo.github.rest
    suites = (
        await rest.checks.async_list_suites_for_ref(repo.owner, repo.name, sha, per_page=100)
    ).parsed_data.check_suites
    if any((s.latest_check_runs_count or 0) > 0 for s in suites):
        return True
    combined = (
        await rest.repos.async_get_combined_status_for_ref(repo.owner, repo.name, sha)
    ).parsed_data
    return combined.total_count > 0


async def _log_tail(repo: Repo, details_url: str | None) -> str:
    """An Actions job's log (its check run's output is usually empty); "" when unavailable."""
    found = _JOB_URL.search(details_url or "")
    if not found:
        return ""
    try:
        response = await repo.github.rest.actions.async_download_job_logs_for_workflow_run(
            repo.owner, repo.name, int(found.group(1))
        )
    except GitHubException as exc:
        log.info("job log unavailable", extra={"job": found.group(1), "error": str(exc)})
        return ""
    return response.text[-LOG_TAIL_CHARS:]


def has_ci(paths: list[str]) -> bool:
    """Whether the repository defines GitHub Actions workflows (other CI shows up as check
    suites or statuses on the default branch: `reports_on`)."""
    return any(p.startswith(".github/workflows/") and p.endswith((".yml", ".yaml")) for p in paths)
