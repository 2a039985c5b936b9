"""The CI verdict, decided from plain data: no network."""

from __future__ import annotations

from bot.github.ci import (
    LOG_TAIL_CHARS,
    MAX_ANNOTATIONS,
    CiReports,
    CiVerdict,
    CommitStatus,
    FailedCheck,
    Run,
    Suite,
    ci_verdict,
)

DONE = Suite("completed", "success", runs=1)
FAILED = Suite("completed", "failure", runs=1)
RUNNING = CiVerdict(False, False, [])


def test_nothing_reported_yet_is_not_finished() -> None:
    assert ci_verdict(CiReports(suites=())) == RUNNING


def test_a_suite_still_running_is_not_finished() -> None:
    reports = CiReports(suites=(DONE, Suite("in_progress", "", runs=2)))
    assert reports.suites_running
    assert ci_verdict(reports) == RUNNING


def test_a_suite_without_runs_never_counts() -> None:
    # an app that created a suite and never ran anything must not hold CI open for ever
    queued_for_ever = Suite("queued", "", runs=0)
    reports = CiReports(
        suites=(DONE, queued_for_ever), runs=(Run(1, "test", "completed", "success"),)
    )
    assert ci_verdict(reports) == CiVerdict(True, True, [])
    assert ci_verdict(CiReports(suites=(queued_for_ever,))) == RUNNING


def test_green_suites_pass() -> None:
    neutral = Suite("completed", "neutral", runs=1)
    runs = (Run(1, "lint", "completed", "success"), Run(2, "docs", "completed", "skipped"))
    assert ci_verdict(CiReports(suites=(DONE, neutral), runs=runs)) == CiVerdict(True, True, [])


def test_a_failed_run_is_reported_with_its_annotations_and_log_tail() -> None:
    notes = tuple(f"widgets/core.py:{n}: failure: wrong" for n in range(30))
    run = Run(
        7,
        "test",
        "completed",
        "failure",
        title="1 test failed",
        summary="pytest",
        text="the run's own output",
        annotations=notes,
        log="x" * 5000 + "E   AssertionError",
    )
    verdict = ci_verdict(CiReports(suites=(FAILED,), runs=(run,)))
    assert (verdict.finished, verdict.passed) == (True, False)
    [failure] = verdict.failures
    assert (failure.name, failure.conclusion, failure.title, failure.summary) == (
        "test",
        "failure",
        "1 test failed",
        "pytest",
    )
    assert failure.annotations == list(notes[:MAX_ANNOTATIONS])
    assert len(failure.log_tail) == LOG_TAIL_CHARS and failure.log_tail.endswith("AssertionError")


def test_without_a_job_log_the_runs_own_output_is_the_tail() -> None:
    run = Run(7, "test", "completed", "timed_out", text="collected 2 items\nTimeout")
    [failure] = ci_verdict(CiReports(suites=(FAILED,), runs=(run,))).failures
    assert (failure.conclusion, failure.log_tail) == ("timed_out", "collected 2 items\nTimeout")


def test_a_run_without_a_conclusion_counts_as_failed() -> None:
    run = Run(7, "test", "completed", "")
    [failure] = ci_verdict(CiReports(suites=(FAILED,), runs=(run,))).failures
    assert failure.conclusion == "unknown"


def test_a_failed_suite_fails_even_when_no_run_says_why() -> None:
    assert ci_verdict(CiReports(suites=(FAILED,))) == CiVerdict(True, False, [])


def test_commit_statuses_alone_decide_when_there_are_no_suites() -> None:
    green = CiReports(
        suites=(), combined_state="success", statuses=(CommitStatus("ci", "success"),)
    )
    assert ci_verdict(green) == CiVerdict(True, True, [])
    red = CommitStatus("ci/jenkins", "failure", "2 tests failed", "https://ci.example/42")
    verdict = ci_verdict(CiReports(suites=(), combined_state="failure", statuses=(red,)))
    assert verdict == CiVerdict(
        True,
        False,
        [FailedCheck("ci/jenkins", "failure", "2 tests failed", "https://ci.example/42", "")],
    )


def test_a_pending_status_keeps_ci_open_even_when_the_suites_are_done() -> None:
    pending = CiReports(
        suites=(DONE,), combined_state="pending", statuses=(CommitStatus("deploy", "pending"),)
    )
    assert ci_verdict(pending) == RUNNING


def test_failed_runs_come_before_failed_statuses_in_the_report() -> None:
    reports = CiReports(
        suites=(FAILED,),
        runs=(Run(1, "test", "completed", "failure", title="1 failed"),),
        combined_state="error",
        statuses=(CommitStatus("ci/other", "error", "crashed"),),
    )
    report = ci_verdict(reports).report()
    assert report == "## test: failure\n1 failed\n\n## ci/other: error\ncrashed"
