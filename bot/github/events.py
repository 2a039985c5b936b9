"""Triad's own lenient models of the webhook deliveries it handles.

githubkit's strict models reject real deliveries (labels without `archived_at`, installations
without `app_slug`), so Triad reads only the fields it uses and ignores everything else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Actor(_Lenient):
    login: str
    id: int
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class Label(_Lenient):
    name: str


class InstallationRef(_Lenient):
    id: int


class Repository(_Lenient):
    id: int
    name: str
    full_name: str
    owner: Actor
    default_branch: str = "main"
    private: bool = False


class Issue(_Lenient):
    number: int
    title: str
    body: str | None = None
    user: Actor
    state: str = "open"
    labels: list[Label] = Field(default_factory=list)
    #: present (a dict of URLs) when the issue is a pull request
    pull_request: dict[str, Any] | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class Comment(_Lenient):
    id: int
    body: str | None = None
    user: Actor


class RepoRef(_Lenient):
    #: absent in check suites' short PR references
    full_name: str | None = None


class GitRef(_Lenient):
    ref: str
    sha: str
    #: the repository the ref is in (a fork's, for a PR from a fork); null when deleted
    repo: RepoRef | None = None


class PullRequest(_Lenient):
    number: int
    title: str = ""
    body: str | None = None
    user: Actor
    state: str = "open"
    draft: bool = False
    merged: bool | None = None
    head: GitRef
    base: GitRef
    labels: list[Label] = Field(default_factory=list)


class PullRequestRef(_Lenient):
    number: int
    head: GitRef
    base: GitRef


class Review(_Lenient):
    id: int
    user: Actor
    state: str
    body: str | None = None
    commit_id: str | None = None


class CheckSuite(_Lenient):
    id: int
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)


class WorkflowRun(_Lenient):
    id: int
    name: str | None = None
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)


class WebhookEvent(_Lenient):
    """The fields every delivery Triad handles carries."""

    action: str | None = None
    sender: Actor
    installation: InstallationRef | None = None
    repository: Repository | None = None


class IssuesEvent(WebhookEvent):
    issue: Issue
    label: Label | None = None


class IssueCommentEvent(WebhookEvent):
    issue: Issue
    comment: Comment


class PullRequestEvent(WebhookEvent):
    pull_request: PullRequest
    label: Label | None = None


class PullRequestReviewEvent(WebhookEvent):
    pull_request: PullRequest
    review: Review


class CheckSuiteEvent(WebhookEvent):
    check_suite: CheckSuite


class WorkflowRunEvent(WebhookEvent):
    workflow_run: WorkflowRun


class Branch(_Lenient):
    name: str


class StatusEvent(WebhookEvent):
    """A commit status changed (CI that reports statuses rather than checks); no action."""

    sha: str
    state: str
    context: str = ""
    branches: list[Branch] = Field(default_factory=list)


class InstallationEvent(WebhookEvent):
    installation: InstallationRef
    repositories: list[dict[str, Any]] = Field(default_factory=list)


NO_ACTION = ""

# (event, actions) Triad acts on, and the model each is read with. Everything else is ignored.
HANDLED_EVENTS: dict[str, tuple[type[WebhookEvent], frozenset[str]]] = {
    "issues": (IssuesEvent, frozenset({"labeled", "unlabeled", "edited", "closed"})),
    "issue_comment": (IssueCommentEvent, frozenset({"created", "edited"})),
    "pull_request": (
        PullRequestEvent,
        frozenset({"labeled", "unlabeled", "synchronize", "closed", "ready_for_review"}),
    ),
    "pull_request_review": (PullRequestReviewEvent, frozenset({"submitted"})),
    "check_suite": (CheckSuiteEvent, frozenset({"completed"})),
    "workflow_run": (WorkflowRunEvent, frozenset({"completed"})),
    "installation": (InstallationEvent, frozenset({"created", "deleted"})),
    # `status` deliveries carry no action
    "status": (StatusEvent, frozenset({NO_ACTION})),
}


def event_model(event: str, action: str | None) -> type[WebhookEvent] | None:
    """The model to read a delivery with, or None when Triad does not handle it."""
    handled = HANDLED_EVENTS.get(event)
    if handled is None or (action or NO_ACTION) not in handled[1]:
        return None
    return handled[0]


def parse_event(event: str, payload: dict[str, Any]) -> WebhookEvent:
    """Read a handled delivery; raises pydantic.ValidationError when a needed field is missing."""
    model = event_model(event, payload.get("action")) or WebhookEvent
    return model.model_validate(payload)
