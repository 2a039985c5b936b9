"""What the developer must answer: file edits tied to the approved plan, or why it cannot."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Replacement(_Answer):
    search: str = Field(description="Exact text in the current file, including indentation")
    replace: str = Field(description="The text that takes its place")


class FileEdit(_Answer):
    path: str = Field(description="Repository-relative path")
    action: Literal["create", "modify", "delete"]
    plan_step: int | None = Field(
        description="Number of the plan step (1-based) this edit carries out; null if none"
    )
    reason: str = Field(description="Why; required when the path is not in the plan")
    replacements: list[Replacement] = Field(
        description="For modify: search/replace blocks, each search found exactly once"
    )
    content: str | None = Field(
        description="For create, or to rewrite a whole file on modify: the full new content"
    )


class Implementation(_Answer):
    """One developer round: the change, or the files it must read first, or a design problem."""

    summary: str = Field(description="What the change does, for the PR description")
    commit_message: str = Field(description="A one-line imperative subject, then a body")
    root_cause: str = Field(
        description="For a fix: the root cause of the failure or review finding; else empty"
    )
    design_problem: str = Field(
        description="Non-empty only when the approved design cannot work as written: why"
    )
    read_first: list[str] = Field(
        description="Paths you must read before editing (then leave edits empty); else empty",
        max_length=10,
    )
    edits: list[FileEdit]
