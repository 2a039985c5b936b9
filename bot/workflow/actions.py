"""What the engine asks the handlers to do; each is carried out idempotently."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ISSUE = "issue"
#: the workflow's pull request (the issue when there is none yet)
PULL = "pull"


@dataclass(frozen=True)
class PostComment:
    """Post a comment once: `key` becomes a hidden marker found on a retry."""

    key: str
    body: str
    on: str = ISSUE


@dataclass(frozen=True)
class Refuse:
    """Tell `login` they may not do what they tried: one comment per person, issue and day
    (later refusals are only logged and counted, so refusals cannot be used to spam or to
    spend the installation's write allowance). `source` is the event refused."""

    login: str
    body: str
    source: str
    on: str = ISSUE


@dataclass(frozen=True)
class AddLabel:
    name: str
    on: str = ISSUE


@dataclass(frozen=True)
class RemoveLabel:
    name: str
    on: str = ISSUE


@dataclass(frozen=True)
class MarkReady:
    """Mark the workflow's draft PR ready for review (gate C passed)."""


@dataclass(frozen=True)
class MergePull:
    """Merge the workflow's PR (only where the repository opted in with gates.auto_merge)."""

    head_sha: str


@dataclass(frozen=True)
class EnsureLabels:
    """Create Triad's labels on the repository where they are missing."""


@dataclass(frozen=True)
class RunStage:
    """Queue a stage's job; the key makes a second request for the same work a no-op."""

    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: run it no sooner than this (a deadline check)
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class UpdateProgress:
    """Bring the issue's progress comment up to date with the workflow as it stands."""


@dataclass(frozen=True)
class SetCheckRun:
    """Create or update Triad's check run on `head_sha` (found again by its name and App).

    `conclusion` None leaves it in progress; `keep_summary` puts `summary` above what the run
    already shows (the reviewers' report stays under a human's decision); `buttons` are the
    requested actions (CheckAction identifiers) offered at needs-human.
    """

    head_sha: str
    title: str
    summary: str
    conclusion: str | None = None
    text: str = ""
    buttons: tuple[str, ...] = ()
    keep_summary: bool = False


@dataclass(frozen=True)
class ReportStatus:
    """Answer `/triad status` with where the workflow stands and what it has cost."""

    key: str


Action = (
    PostComment
    | Refuse
    | AddLabel
    | RemoveLabel
    | EnsureLabels
    | RunStage
    | ReportStatus
    | MarkReady
    | MergePull
    | UpdateProgress
    | SetCheckRun
)


_ACTION_TYPES: dict[str, type[Action]] = {
    cls.__name__: cls
    for cls in (
        PostComment,
        Refuse,
        AddLabel,
        RemoveLabel,
        EnsureLabels,
        RunStage,
        ReportStatus,
        MarkReady,
        MergePull,
        UpdateProgress,
        SetCheckRun,
    )
}


def action_to_dict(action: Action) -> dict[str, Any]:
    """A JSON-ready form, so decided actions can wait in the store until carried out."""
    return {"type": type(action).__name__, **asdict(action)}


#: names older versions stored actions under
_ACTION_TYPES["Comment"] = PostComment


def action_from_dict(data: dict[str, Any]) -> Action:
    fields = dict(data)
    kind = _ACTION_TYPES[fields.pop("type")]
    if kind is SetCheckRun:
        fields["buttons"] = tuple(fields.get("buttons", ()))  # JSON gives a list back
    return kind(**fields)
