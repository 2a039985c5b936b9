"""The CI verdict on a commit, decided from what its check suites, check runs and commit
statuses reported: plain data in, a verdict out (`checks.ci_reports` does the reading)."""

from __future__ import annotations

from dataclasses import dataclass, field

PASSING = frozenset({"success", "neutral", "skipped"})
LOG_TAIL_CHARS = 3_000
MAX_ANNOTATIONS = 20


@dataclass(frozen=True)
class Suite:
    """A check suite; one without runs (an app that never started) does not count."""

    status: str
    conclusion: str
    runs: int

    @property
    def counts(self) -> bool:
        return self.runs > 0


@dataclass(frozen=True)
class Run:
    """A check run with, when it failed, its annotations and the tail of its job's log."""

    id: int
    name: str
    status: str
    conclusion: str
    title: str = ""
    summary: str = ""
    text: str = ""
    details_url: str = ""
    annotations: tuple[str, ...] = ()
    log: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "completed" and self.conclusion not in PASSING


@dataclass(frozen=True)
class CommitStatus:
    """A commit status (CI that reports through the Statuses API)."""

    context: str
    state: str
    description: str = ""
    target_url: str = ""


@dataclass(frozen=True)
class CiReports:
    """What CI reported on a commit. While a suite still runs nothing more is read: `runs`,
    `statuses` and `combined_state` stay empty."""

    suites: tuple[Suite, ...]
    runs: tuple[Run, ...] = ()
    #: the combined state of the commit statuses (pending, success, failure), "" when none
    combined_state: str = ""
    statuses: tuple[CommitStatus, ...] = ()

    @property
    def suites_running(self) -> bool:
        return any(s.status != "completed" for s in self.suites if s.counts)


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


def ci_verdict(reports: CiReports) -> CiVerdict:
    """Finished only when something reported and nothing is still running (suites with no runs
    never finish); passed when every suite concluded well and no run or status failed."""
    suites = [s for s in reports.suites if s.counts]
    if reports.suites_running or reports.combined_state == "pending":
        return CiVerdict(False, False, [])
    if not suites and not reports.statuses:
        return CiVerdict(False, False, [])  # nothing has reported on this commit yet
    failures = [_failed_run(run) for run in reports.runs if run.failed]
    failures += [
        FailedCheck(s.context, s.state, s.description, s.target_url, log_tail="")
        for s in reports.statuses
        if s.state in ("failure", "error")
    ]
    passed = all(s.conclusion in PASSING for s in suites) and not failures
    return CiVerdict(True, passed, failures)


def _failed_run(run: Run) -> FailedCheck:
    return FailedCheck(
        name=run.name,
        conclusion=run.conclusion or "unknown",
        title=run.title,
        summary=run.summary,
        log_tail=(run.log or run.text)[-LOG_TAIL_CHARS:],
        annotations=list(run.annotations[:MAX_ANNOTATIONS]),
    )
