"""What the architect must answer: a design a maintainer can approve and QA can check."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from bot.llm.schema import answering
from bot.roles.architect.render import MAX_VERSION_CHARS, version_length


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileSelection(_Answer):
    """The repository files the architect wants to read before designing."""

    paths: list[str] = Field(description="Paths from the tree, most relevant first", max_length=20)
    reason: str = Field(description="One sentence: why these files matter for the issue")


class DesignOption(_Answer):
    name: str = Field(description="A short name for the option, e.g. 'SQLite FTS index'")
    summary: str
    pros: list[str]
    cons: list[str]


class PlanStep(_Answer):
    path: str = Field(description="Repository-relative path of the file")
    change: Literal["create", "modify", "delete"]
    description: str = Field(description="What changes in this file and why")


class DesignProposal(_Answer):
    """A design version: the comment Triad posts is rendered from this."""

    title: str = Field(description="A short imperative title for the change (used for the PR)")
    problem: str = Field(description="The problem restated in your own words")
    clarifying_questions: list[str] = Field(
        description="Questions a maintainer must answer before building; empty when none"
    )
    options: list[DesignOption] = Field(min_length=2, max_length=3)
    chosen_option: str = Field(description="The name of the chosen option, exactly as above")
    rationale: str = Field(description="Why this option, and the trade-offs accepted")
    plan: list[PlanStep] = Field(min_length=1, description="File-by-file plan")
    acceptance_criteria: list[str] = Field(
        min_length=1, description="Checks QA can perform to accept the change"
    )
    risks: list[str]

    @model_validator(mode="after")
    def _chosen_is_an_option(self) -> DesignProposal:
        names = [option.name for option in self.options]
        if self.chosen_option not in names:
            raise ValueError(f"chosen_option {self.chosen_option!r} is not one of {names}")
        return self

    @model_validator(mode="after")
    def _fits_its_comment(self, info: ValidationInfo) -> DesignProposal:
        """What is approved is the comment as shown, never cut: a design whose version would
        not fit in it goes back to the model to be shortened (a design stored before this
        limit is read as it was approved)."""
        if not answering(info):
            return self
        length = version_length(self)
        if length > MAX_VERSION_CHARS:
            raise ValueError(
                f"the design takes {length:,} characters as its comment shows it, and at most"
                f" {MAX_VERSION_CHARS:,} fit: write it shorter"
            )
        return self
