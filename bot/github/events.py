"""Triad's own lenient models of the webhook deliveries it handles, and reading a body with one.

githubkit's strict models reject real deliveries (labels without `archived_at`, installations
without `app_slug`), so Triad reads only the fields it uses and ignores everything else.

They are msgspec structs, read from the body's bytes in one pass: the web process reads every
delivery before it answers, and pydantic took 2.5-3 times as long over the same models (a
pull request's 24 kB: 50-60 µs against 17-28), the largest single piece of the event loop's
own work a delivery. Read leniently, much as pydantic's lax mode read them: unknown keys skipped, a
number sent as a string ("7") read as the int a field declares, and of a key written twice
the last kept, though each copy must read (GitHub writes each key once). A body nested deeper
than Python's recursion limit lets msgspec go (about 900 levels, less the caller's own
frames; no delivery nests beyond a dozen) is not JSON Triad reads.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, TypeVar, dataclass_transform

import msgspec

from bot.numbers import MAX_ID, MAX_ISSUE_NUMBER


# type checkers see a class option on the class that sets it, but msgspec's `frozen` holds for
# its subclasses too (its `kw_only` does not: it is for the fields a class declares, and each
# model says it, so a required field may follow an optional one it inherits)
@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class Lenient(msgspec.Struct, frozen=True, kw_only=True):
    """Reads the fields a model declares and ignores every other (the payloads carry many)."""


M = TypeVar("M", bound=Lenient)

#: an issue's or pull request's number as Triad stores it (a delivery with another is
#: unreadable, not a delivery that fails to store)
Number = Annotated[int, msgspec.Meta(ge=1, le=MAX_ISSUE_NUMBER)]
#: an account's, installation's, repository's, comment's or run's id
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class Unreadable(ValueError):
    """A body a model cannot read: `problem` says where and why ("issue.number: Field
    required"); `not_json` when nothing can be read from it (not JSON, or not an object)."""

    def __init__(self, problem: str, *, not_json: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.not_json = not_json


def read_json(model: type[M], body: bytes | msgspec.Raw) -> M:
    """`body` read as `model`; `Unreadable` when it cannot be."""
    try:
        read: M = _decoder(model).decode(body)
    except msgspec.ValidationError as exc:
        raise _unreadable(exc) from None
    except msgspec.DecodeError:
        raise Unreadable("body is not valid JSON", not_json=True) from None
    except RecursionError:  # nested deeper than Python's recursion limit lets msgspec go
        raise Unreadable("body is not valid JSON: nested too deeply", not_json=True) from None
    return read


@functools.cache
def _decoder(model: type[M]) -> msgspec.json.Decoder[M]:
    return msgspec.json.Decoder(model, strict=False)


_MISSING = re.compile(r"Object missing required field `(.+)`")
_AT = " - at `$"


def _unreadable(exc: msgspec.ValidationError) -> Unreadable:
    """msgspec's "Expected `int`, got `str` - at `$.issue.number`" as "issue.number: ...";
    a root that is not an object is not JSON Triad can read."""
    why, at, where = str(exc).partition(_AT)
    where = where.removesuffix("`").removeprefix(".")
    if not at and why.startswith("Expected `object`"):
        return Unreadable("body is not a JSON object", not_json=True)
    if missing := _MISSING.fullmatch(why):
        where, why = ".".join(filter(None, (where, missing[1]))), "Field required"
    return Unreadable(f"{where}: {why}"[:500] if where else why[:500])


class Sender(Lenient, kw_only=True):
    login: str
    id: Id
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class Label(Lenient, kw_only=True):
    name: str


class InstallationRef(Lenient, kw_only=True):
    id: Id


class Repository(Lenient, kw_only=True):
    id: Id
    name: str
    full_name: str
    owner: Sender
    default_branch: str = "main"
    private: bool = False


class Issue(Lenient, kw_only=True):
    number: Number
    title: str
    body: str | None = None
    user: Sender
    state: str = "open"
    labels: list[Label] = msgspec.field(default_factory=list)
    #: present (a dict of URLs) when the issue is a pull request
    pull_request: dict[str, Any] | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class WebhookComment(Lenient, kw_only=True):
    id: Id
    body: str | None = None
    user: Sender


class RepoRef(Lenient, kw_only=True):
    #: absent in check suites' short PR references
    full_name: str | None = None


class GitRef(Lenient, kw_only=True):
    ref: str
    sha: str
    #: the repository the ref is in (a fork's, for a PR from a fork); null when deleted
    repo: RepoRef | None = None


class PullRequest(Lenient, kw_only=True):
    number: Number
    title: str = ""
    body: str | None = None
    user: Sender
    state: str = "open"
    draft: bool = False
    merged: bool | None = None
    head: GitRef
    base: GitRef
    labels: list[Label] = msgspec.field(default_factory=list)


class PullRequestRef(Lenient, kw_only=True):
    number: Number
    head: GitRef
    base: GitRef


class AppRef(Lenient, kw_only=True):
    """The GitHub App a check suite or run belongs to."""

    id: Id | None = None
    slug: str | None = None

    def is_me(self, own_login: str | None) -> bool:
        """Whether this App is the one whose bot user is `own_login` (e.g. "triad[bot]")."""
        return bool(self.slug and own_login and f"{self.slug}[bot]" == own_login)


class CheckSuite(Lenient, kw_only=True):
    id: Id
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = msgspec.field(default_factory=list)
    app: AppRef | None = None


class CheckRun(Lenient, kw_only=True):
    """A check run; Triad's own carry the number of the workflow they report on as
    `external_id` (a fork's PR is not in `pull_requests`)."""

    id: Id
    name: str = ""
    head_sha: str
    external_id: str | None = None
    status: str | None = None
    conclusion: str | None = None
    app: AppRef | None = None
    pull_requests: list[PullRequestRef] = msgspec.field(default_factory=list)


class RequestedAction(Lenient, kw_only=True):
    identifier: str


class WorkflowRun(Lenient, kw_only=True):
    id: Id
    name: str | None = None
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = msgspec.field(default_factory=list)


class WebhookEvent(Lenient, kw_only=True):
    """The fields every delivery Triad handles carries."""

    action: str | None = None
    sender: Sender
    installation: InstallationRef | None = None
    repository: Repository | None = None


class IssuesEvent(WebhookEvent, kw_only=True):
    issue: Issue
    label: Label | None = None


class Before(Lenient, kw_only=True):
    """A field's value before an edit (`changes.<field>.from`)."""

    text: str | None = msgspec.field(default=None, name="from")


class CommentChanges(Lenient, kw_only=True):
    body: Before | None = None


class IssueCommentEvent(WebhookEvent, kw_only=True):
    issue: Issue
    comment: WebhookComment
    #: on `edited`: what the edit changed (absent or empty when the body stayed as it was)
    changes: CommentChanges = msgspec.field(default_factory=CommentChanges)


class PullRequestEvent(WebhookEvent, kw_only=True):
    pull_request: PullRequest
    label: Label | None = None


class CheckSuiteEvent(WebhookEvent, kw_only=True):
    check_suite: CheckSuite


class CheckRunEvent(WebhookEvent, kw_only=True):
    """`check_run`: a button of Triad's check run clicked, or a re-run asked for."""

    check_run: CheckRun
    requested_action: RequestedAction | None = None


class WorkflowRunEvent(WebhookEvent, kw_only=True):
    workflow_run: WorkflowRun


class Branch(Lenient, kw_only=True):
    name: str


class StatusEvent(WebhookEvent, kw_only=True):
    """A commit status changed (CI that reports statuses rather than checks); no action."""

    sha: str
    state: str
    context: str = ""
    branches: list[Branch] = msgspec.field(default_factory=list)


#: GitHub lists at most this many changed paths per commit of a push
MAX_LISTED_PATHS = 3000


class PushedCommit(Lenient, kw_only=True):
    """A commit of a push, with the paths it changed (GitHub lists at most 3000 per commit)."""

    added: list[str] = msgspec.field(default_factory=list)
    removed: list[str] = msgspec.field(default_factory=list)
    modified: list[str] = msgspec.field(default_factory=list)

    def may_touch(self, path: str) -> bool:
        """Whether the commit changes `path` or may (its lists were cut short)."""
        listed = (self.added, self.removed, self.modified)
        if sum(len(paths) for paths in listed) >= MAX_LISTED_PATHS:
            return True
        return any(path in paths for paths in listed)


class PushEvent(WebhookEvent, kw_only=True):
    """Commits pushed to a branch (or a branch created or deleted); no action."""

    ref: str
    before: str = ""
    after: str = ""
    created: bool = False
    deleted: bool = False
    forced: bool = False
    #: at most 2048, oldest first (GitHub's cap); empty when the push added no new commit
    commits: list[PushedCommit] = msgspec.field(default_factory=list)
    head_commit: PushedCommit | None = None
