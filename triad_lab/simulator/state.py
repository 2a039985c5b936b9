"""The simulator's records: what GitHub would hold for the App's installations (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("admin", "maintain", "write", "triage", "read")
#: GitHub's legacy `permission` field for each role
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


class ApiError(Exception):
    """An answer GitHub would give instead of the result: status, message, optional errors."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any] | str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}" + (f" {errors}" if errors else ""))
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def invalid(resource: str, field: str, code: str) -> ApiError:
    """GitHub's 422 "Validation Failed" for one field of one resource."""
    return ApiError(
        422, "Validation Failed", [{"resource": resource, "field": field, "code": code}]
    )


@dataclass
class User:
    id: int
    login: str
    type: str = "User"  # or "Bot", "Organization"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot"


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: str
    updated_at: str


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: User
    created_at: str
    updated_at: str
    labels: list[str] = field(default_factory=list)  # names, in the order added
    state: str = "open"
    closed_at: str | None = None
    is_pull: bool = False


@dataclass
class Pull:
    id: int
    number: int
    head_ref: str  # branch name
    base_ref: str
    head_sha: str
    base_sha: str
    draft: bool
    merged: bool = False
    merged_at: str | None = None
    #: the fork the head branch is in (None: the repository itself)
    head_repo: str | None = None


@dataclass
class ReviewComment:
    id: int
    review_id: int
    pull_number: int
    user: User
    path: str
    line: int
    side: str
    start_line: int | None
    body: str
    commit_id: str
    diff_hunk: str
    created_at: str


@dataclass
class Review:
    id: int
    pull_number: int
    user: User
    body: str
    state: str  # PENDING, APPROVED, CHANGES_REQUESTED, COMMENTED
    commit_id: str
    submitted_at: str | None  # None while PENDING

    @property
    def pending(self) -> bool:
        """A pending review is a draft: only its author sees it, and nothing is announced."""
        return self.state == "PENDING"


@dataclass
class CheckRun:
    id: int
    suite_id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: str
    completed_at: str | None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    #: the App that made it: None for GitHub Actions (the simulator's CI), else the App's slug
    app: str | None = None
    external_id: str | None = None
    #: its requested-action buttons ({label, description, identifier})
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CheckSuite:
    id: int
    head_sha: str
    head_branch: str | None
    status: str
    conclusion: str | None
    created_at: str
    updated_at: str
    workflow_name: str
    run_ids: list[int] = field(default_factory=list)
    #: the App it belongs to: None for GitHub Actions, else the App's slug
    app: str | None = None


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: str


@dataclass
class Repository:
    id: int
    owner: User
    name: str
    default_branch: str
    created_at: str
    private: bool = True
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # by lower-cased name
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)
    #: who moved each ref to each SHA: (ref, sha) -> login; CI's deliveries name the pusher
    pushers: dict[tuple[str, str], str] = field(default_factory=dict)
    next_number: int = 1
    #: the repository this one is a fork of
    fork_of: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def label(self, name: str) -> Label | None:
        return self.labels.get(name.lower())


@dataclass
class Installation:
    id: int
    account: User
    repositories: list[str]  # full names
    created_at: str


@dataclass(frozen=True)
class AppInfo:
    id: int
    slug: str
    name: str
    owner: User
    bot: User
    events: tuple[str, ...]
    permissions: dict[str, str]


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: float  # epoch seconds, on the simulator's clock
    permissions: dict[str, str] = field(default_factory=dict)  # what the token may do
