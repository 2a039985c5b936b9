"""What each reviewer must answer: a verdict, a walkthrough of the change, findings on lines,
and each acceptance criterion."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["high", "medium", "low"]
Category = Literal["spec_mismatch", "bug", "risk", "unclear"]
Verdict = Literal["approve", "request_changes"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Answer):
    path: str = Field(description="File the finding is about")
    line: int | None = Field(description="Line number in the new version of the file, or null")
    severity: Severity
    category: Category = Field(
        description="spec_mismatch: differs from what the change must do (the approved design, "
        "or what the pull request and its issues say); bug; risk; unclear"
    )
    message: str = Field(description="What is wrong and why it matters, in one or two sentences")
    suggestion: str | None = Field(
        description="Replacement code for that line, when a fix is obvious; else null"
    )


class ChangeGroup(_Answer):
    """One part of the change, for a human reviewer's walkthrough."""

    purpose: str = Field(description="What this part of the change is for, in a few words")
    files: list[str] = Field(description="The files it touches")
    summary: str = Field(description="What it changes, in one to three lines")


class CriterionCheck(_Answer):
    criterion: str = Field(
        description="The acceptance criterion, as the design (or the pull request and its "
        "issues) states it"
    )
    met: bool
    note: str = Field(description="The evidence in the diff, or what is missing")


class ReviewAnswer(_Answer):
    """One reviewer's review of (a part of) the diff against what the change must do."""

    verdict: Verdict
    summary: str = Field(description="Two or three sentences: does the change do what it must")
    walkthrough: list[ChangeGroup] = Field(
        description="What the change does, for human reviewers: its parts grouped by purpose"
    )
    findings: list[Finding]
    criteria: list[CriterionCheck]
