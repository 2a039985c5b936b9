"""The words Triad says on GitHub when the engine refuses, stops or explains."""

from __future__ import annotations

from collections.abc import Sequence

from bot.repo_config import CONFIG_PATH, Labels

WRITERS = "people with write, maintain or admin access to this repository"


def not_allowed(login: str, what: str) -> str:
    return f"@{login} only {WRITERS} can {what}, so Triad did nothing."


def approval_refused_edited(login: str, labels: Labels) -> str:
    return (
        f"@{login} the design comment was edited after Triad proposed it, so the approval was "
        f"refused and `{labels.approved}` removed: what would be approved is not what was "
        "proposed. Ask for a new version with `/triad revise`, then approve that one."
    )


def approval_refused_issue_edited(login: str, labels: Labels) -> str:
    return (
        f"@{login} the issue's title or description was edited after the design was proposed, "
        f"so the approval was refused and `{labels.approved}` removed: the design was written "
        "from the issue as it was, and you approve what the models will read. Ask for a new "
        "version with `/triad revise` (it reads the issue as it is now), then approve that one."
    )


def issue_edited_after_approval(version: int) -> str:
    return (
        f"This issue was edited after design v{version} was approved. The edit changes nothing "
        "that Triad's models read: the developer and the reviewers work from the issue as it "
        "was approved, with the design. To take the edit into account, a writer comments "
        "`/triad redesign` (a new design version, to approve again)."
    )


def approval_refused_no_design(login: str, labels: Labels) -> str:
    return (
        f"@{login} there is no proposed design to approve yet, so `{labels.approved}` was "
        f"removed. Add `{labels.design}` to ask the architect for one."
    )


def stopped(login: str) -> str:
    return f"Stopped by @{login}: nothing more runs on this issue, and Triad's labels are removed."


def unknown_command(name: str) -> str:
    return (
        f"Triad does not know `/triad {name}`. Commands: `/triad status`; `/triad revise` "
        "(a new design version that takes your comments into account); `/triad fix` (the "
        "developer addresses the review comments); `/triad redesign` (back to the architect); "
        "`/triad resume [decision]` (go on after `needs-human`); `/triad review` (the two "
        "reviewers review the pull request, any pull request); `/triad stop`."
    )


def revisions_exhausted(limit: int) -> str:
    return (
        f"This issue reached its limit of {limit} design versions (`limits.design_revisions` "
        "in `.github/triad.yml`); a human should take it from here."
    )


def stage_failed(stage: str, reason: str, job_id: int | None = None) -> str:
    operator = f" (or an operator runs `triad jobs retry {job_id}`)" if job_id else ""
    return (
        f"The {stage} could not finish: {reason}\n\n"
        f"Triad added `needs-human`. Retry with `/triad resume`{operator} once the cause is "
        "fixed."
    )


def nothing_to_revise() -> str:
    return "There is no design to revise on this issue yet; the design label starts one."


def no_ci(labels: Labels) -> str:
    return (
        "This repository has no CI that reports on pull requests, so **QA has not run**: "
        f"nothing here is tested. A writer adds `{labels.review}` to start the two reviewers "
        "anyway."
    )


def ci_passed_waiting(labels: Labels) -> str:
    return (
        f"CI passed. This repository asks for a human gate before review: a writer adds "
        f"`{labels.review}` to start the two reviewers."
    )


def ci_exhausted(attempts: int, report: str) -> str:
    tail = report.strip()[-1500:]
    return (
        f"CI still fails after {attempts} fix attempt(s) (`limits.ci_fix_attempts`), so Triad "
        "stopped and added `needs-human`.\n\n"
        f"<details><summary>Last failure</summary>\n\n```\n{tail}\n```\n</details>\n\n"
        "Fix it by hand and push, or answer with `/triad resume <what to try>` for another "
        "round, or `/triad redesign` if the design is at fault."
    )


def review_rounds_exhausted(rounds: int, summary: str) -> str:
    return (
        f"The reviewers still ask for changes after {rounds} fix round(s) "
        "(`limits.review_fix_rounds`), so Triad stopped and added `needs-human`.\n\n"
        f"{summary}\n\n`/triad resume <decision>` sends the developer back with your decision; "
        "`/triad resume` alone accepts the change as it is."
    )


def edits_outside_plan(
    round_: int, paths: Sequence[tuple[str, str, bool]], refused: Sequence[str] = ()
) -> str:
    lines = []
    for path, reason, sensitive in paths:
        said = reason.replace("\n", " ")[:300] or "no reason given"
        shown = path.replace("`", "'")
        line = f"- `{shown}`: {said}"
        if sensitive:
            line += (
                " — **CI or tooling runs this file**: only a new design that names it, approved "
                "again, can change it"
            )
        lines.append(line)
    lines += [f"- {problem[:300]}" for problem in refused]
    allowable = [path for path, _, sensitive in paths if not sensitive]
    allow = (
        "`/triad resume allow` lets the developer change "
        + ", ".join(f"`{path}`" for path in allowable)
        + " (those paths only) and runs the round again; "
        if allowable
        else ""
    )
    return (
        f"The developer's round {round_} wanted to change files outside the approved plan, so "
        "nothing was pushed and Triad added `needs-human`:\n\n" + "\n".join(lines) + "\n\n"
        f"A writer decides: {allow}`/triad resume <guidance>` runs it again within the plan; "
        "`/triad redesign` asks the architect for a plan that includes them (approved again)."
    )


def nothing_to_allow(sensitive_only: bool) -> str:
    if sensitive_only:
        return (
            "The paths the developer asked for are run by CI or tooling: `/triad resume allow` "
            "cannot allow them. `/triad redesign` asks for a plan that names them, which a "
            "writer then approves with that warning in view."
        )
    return "No edits outside the plan are waiting: there is nothing to allow."


def human_rounds_exhausted(limit: int) -> str:
    return (
        f"This workflow reached its limit of {limit} rounds asked for with `/triad fix` and "
        "`/triad resume` (`limits.human_rounds` in `.github/triad.yml`), so Triad did not start "
        "another. `/triad redesign` asks for a new design (the count starts again when it is "
        "approved); or fix it by hand and push."
    )


def design_wrong(reason: str) -> str:
    return (
        "The developer found that the approved design cannot be built as written, so it goes "
        f"back to the architect for a new version (to approve again):\n\n> {reason}"
    )


def qa_passed(login: str, auto_merge: bool = False) -> str:
    if auto_merge:
        return (
            f"QA passed (@{login}). This repository opted in to `gates.auto_merge`, so Triad "
            "merges the pull request."
        )
    return (
        f"QA passed (@{login}). The pull request is marked ready for review; merging it stays "
        "a human decision."
    )


def merge_refused(reason: str) -> str:
    return f"Triad could not merge the pull request ({reason}); merging is left to a human."


def nothing_to_do(command: str, stage: str) -> str:
    return f"`/triad {command}` has nothing to act on while the workflow is `{stage}`."


def qa_failed_needs_note(labels: Labels) -> str:
    return (
        f"`{labels.qa_failed}` needs a word on what failed: write it in a comment on the pull "
        "request, then add the label again (say the design is wrong, or `/triad redesign`, "
        "when the problem is the design itself)."
    )


def head_moved(login: str, sha: str, has_ci: bool, labels: Labels) -> str:
    then = (
        "CI runs on it, then the two reviewers"
        if has_ci
        else f"there is no CI; a writer adds `{labels.review}` to start the reviewers"
    )
    return f"@{login} pushed {sha[:7]}: {then}. Earlier verdicts no longer apply."


def config_problems(problems: Sequence[str]) -> str:
    listed = "\n".join(f"- {problem}" for problem in problems)
    return (
        f"`{CONFIG_PATH}` has problems; Triad uses the defaults for these and goes on:\n\n{listed}"
    )


def issue_closed(login: str, labels: Labels) -> str:
    return (
        f"@{login} closed this issue, so Triad stopped its workflow: nothing more runs and "
        f"Triad's labels are removed. To start again, reopen it and add `{labels.design}`."
    )


def reopened_stays_stopped(labels: Labels) -> str:
    return (
        "Reopened: Triad's workflow stays stopped. A writer adds "
        f"`{labels.design}` to the issue to start it again (a new design version)."
    )


def pull_closed(login: str, number: int, labels: Labels) -> str:
    return (
        f"@{login} closed pull request #{number} without merging it, so Triad stopped this "
        f"workflow. A writer adds `{labels.design}` to start again (a new design version)."
    )


def review_closed(login: str) -> str:
    return (
        f"@{login} closed this pull request without merging it: Triad stopped reviewing it. "
        "After reopening it, a writer asks for a review with `/triad review`."
    )


def review_reopened(labels: Labels) -> str:
    return (
        f"Reopened: Triad does not review it again by itself. A writer adds `{labels.review}` "
        "or comments `/triad review`."
    )


def review_limit(limit: int) -> str:
    return (
        f"This pull request reached its limit of {limit} review rounds "
        "(`limits.reviews_per_pr` in `.github/triad.yml`), so the reviewers did not run again."
    )


def not_open(what: str) -> str:
    return f"This pull request is not open, so Triad cannot {what}."


def accepted(login: str) -> str:
    return f"@{login} accepted the change as it is: Triad's check passes."


def nothing_to_review(stage: str) -> str:
    return (
        f"`/triad review` has nothing to review while the workflow is `{stage}`: the reviewers "
        "run on the pull request once the developer has pushed and CI has run."
    )


def pull_has_no_developer(command: str) -> str:
    return (
        f"`/triad {command}` works on Triad's own pull requests; on this one the reviewers "
        "only review: its author makes the changes, and a writer asks for another review with "
        "`/triad review`."
    )
