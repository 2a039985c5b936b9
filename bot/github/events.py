"""Triad's own lenient models of the webhook deliveries it handles.

githubkit's strict models reject real deliveries (labels without `archived_at`, installations
without `app_slug`), so Triad reads only the fields it uses and ignores everything else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Lenient(BaseModel):
    """Reads the fields a model declares and ignores every other (the payloads carry many)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Sender(Lenient):
    login: str
    id: int
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class Label(Lenient):
    name: str


class InstallationRef(Lenient):
    id: int


class Repository(Lenient):
    id: int
    name: str
    full_name: str
    owner: Sender
    default_branch: str = "main"
    private: bool = False


class Issue(Lenient):
    number: int
    title: str
    body: str | None = None
    user: Sender
    state: str = "open"
    labels: list[Label] = Field(default_factory=list)
    #: present (a dict of URLs) when the issue is a pull request
    pull_request: dict[str, Any] | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class WebhookComment(Lenient):
    id: int
    body: str | None = None
    user: Sender


class RepoRef(Lenient):
    #: absent in check suites' short PR references
    full_name: str | None = None


class GitRef(Lenient):
    ref: str
    sha: str
    #: the repository the ref is in (a fork's, for a PR from a fork); null when deleted
    repo: RepoRef | None = None


class PullRequest(Lenient):
    number: int
    title: str = ""
    body: str | None = None
    user: Sender
    state: str = "open"
    draft: bool = False
    merged: bool | None = None
    head: GitRef
    base: GitRef
    labels: list[Label] = Field(default_factory=list)


class PullRequestRef(Lenient):
    number: int
    head: GitRef
    base: GitRef


class AppRef(Lenient):
    """The GitHub App a check suite or run belongs to."""

    id: int | None = None
    slug: str | None = None

    def is_me(self, own_login: str | None) -> bool:
        """Whether this App is the one whose bot user is `own_login` (e.g. "triad[bot]")."""
        return bool(self.slug and own_login and f"{self.slug}[bot]" == own_login)


class CheckSuite(Lenient):
    id: int
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)
    app: AppRef | None = None


class CheckRun(Lenient):
    """A check run; Triad's own carry the number of the workflow they report on as
    `external_id` (a fork's PR is not in `pull_requests`)."""

    id: int
    name: str = ""
    head_sha: str
    external_id: str | None = None
    status: str | None = None
    conclusion: str | None = None
    app: AppRef | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)


class RequestedAction(Lenient):
    identifier: str


class WorkflowRun(Lenient):
    id: int
    name: str | None = None
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)


class WebhookEvent(Lenient):
    """The fields every delivery Triad handles carries."""

    action: str | None = None
    sender: Sender
    installation: InstallationRef | None = None
    repository: Repository | None = None


class IssuesEvent(WebhookEvent):
    issue: Issue
    label: Label | None = None


class Before(Lenient):
    """A field's value before an edit (`changes.<field>.from`)."""

    text: str | None = Field(default=None, alias="from")


class CommentChanges(Lenient):
    body: Before | None = None


class IssueCommentEvent(WebhookEvent):
    issue: Issue
    comment: WebhookComment
    #: on `edited`: what the edit changed (absent or empty when the body stayed as it was)
    changes: CommentChanges = Field(default_factory=CommentChanges)


class PullRequestEvent(WebhookEvent):
    pull_request: PullRequest
    label: Label | None = None


class CheckSuiteEvent(WebhookEvent):
    check_suite: CheckSuite


class CheckRunEvent(WebhookEvent):
    """`check_run`: a button of Triad's check run clicked, or a re-run asked for."""

    check_run: CheckRun
    requested_action: RequestedAction | None = None


class WorkflowRunEvent(WebhookEvent):
    workflow_run: WorkflowRun


class Branch(Lenient):
    name: str


class StatusEvent(WebhookEvent):
    """A commit status changed (CI that reports statuses rather than checks); no action."""

    sha: str
    state: str
    context: str = ""
    branches: list[Branch] = Field(default_factory=list)


#: GitHub lists at most this many changed paths per commit of a push
MAX_LISTED_PATHS = 3000


class PushedCommit(Lenient):
    """A commit of a push, with the paths it changed (GitHub lists at most 3000 per commit)."""

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)

    def may_touch(self, path: str) -> bool:
        """Whether the commit changes `path` or may (its lists were cut short)."""
        listed = (self.added, self.removed, self.modified)
        if sum(len(paths) for paths in listed) >= MAX_LISTED_PATHS:
            return True
        return any(path in paths for paths in listed)


class PushEvent(WebhookEvent):
    """Commits pushed to a branch (or a branch created or deleted); no action."""

    ref: str
    before: str = ""
    after: str = ""
    created: bool = False
    deleted: bool = False
    forced: bool = False
    #: at most 2048, oldest first (GitHub's cap); empty when the push added no new commit
    commits: list[PushedCommit] = Field(default_factory=list)
    head_commit: PushedCommit | None = None
