"""What each reviewer must answer: a verdict, findings on lines, and each acceptance criterion."""

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
        description="spec_mismatch: differs from the approved design; bug; risk; unclear"
    )
    message: str = Field(description="What is wrong and why it matters, in one or two sentences")
    suggestion: str | None = Field(
        description="Replacement code for that line, when a fix is obvious; else null"
    )


class CriterionCheck(_Answer):
    criterion: str = Field(description="The acceptance criterion, as written in the design")
    met: bool
    note: str = Field(description="The evidence in the diff, or what is missing")


class ReviewAnswer(_Answer):
    """One reviewer's review of (a part of) the diff against the approved design."""

    verdict: Verdict
    summary: str = Field(description="Two or three sentences: does the change do what was approved")
    findings: list[Finding]
    criteria: list[CriterionCheck]
