"""The pull request Triad opens for an issue, and what people said on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.errors import GitHubConflict, GitHubNotFound, GitHubRefused
from bot.github.repo import Repo
from bot.github.writes import write_once

if TYPE_CHECKING:
    from githubkit.rest import Paginator
    from githubkit_schemas.latest.models import (
        Commit,
        PullRequest,
        PullRequestReview,
        PullRequestReviewComment,
        PullRequestSimple,
    )

DIFF_MEDIA_TYPE = "application/vnd.github.diff"


@dataclass(frozen=True)
class PullInfo:
    number: int
    node_id: str
    head_ref: str
    head_sha: str
    body: str
    draft: bool
    html_url: str
    #: the repository the head branch is in (another one for a PR from a fork)
    head_repo: str | None = None
    title: str = ""
    author: str = ""
    state: str = "open"
    merged: bool = False
    base_ref: str = ""


@dataclass(frozen=True)
class ReviewNote:
    """A person's word on the PR: a review, an inline comment or a conversation comment."""

    author: str
    body: str
    path: str | None
    line: int | None
    created_at: str


def _info(data: PullRequest | PullRequestSimple) -> PullInfo:
    """A PR as GitHub shows it alone (`PullRequest`) or in a list (`PullRequestSimple`)."""
    return PullInfo(
        number=data.number,
        node_id=data.node_id,
        head_ref=data.head.ref,
        head_sha=data.head.sha,
        body=data.body or "",
        draft=bool(data.draft),
        html_url=data.html_url,
        head_repo=data.head.repo.full_name if data.head.repo else None,
        title=data.title,
        author=data.user.login if data.user else "ghost",
        state=data.state,
        merged=data.merged_at is not None,
        base_ref=data.base.ref,
    )


async def open_pulls_from(repo: Repo, branch: str) -> list[PullInfo]:
    """The open PRs from `branch` of the repository itself, whoever opened them."""
    response = await repo.github.rest.pulls.async_list(
        repo.owner, repo.name, state="open", head=f"{repo.owner}:{branch}", per_page=10
    )
    # (typed here: githubkit's `list` method shadows the builtin in its annotations, #184)
    found: list[PullRequestSimple] = response.parsed_data
    return [_info(data) for data in found if data.head.ref == branch]


async def get_pull(repo: Repo, number: int) -> PullInfo | None:
    try:
        response = await repo.github.rest.pulls.async_get(repo.owner, repo.name, number)
    except GitHubNotFound:
        return None
    return _info(response.parsed_data)


async def open_pull(
    repo: Repo, *, branch: str, base: str, title: str, body: str, draft: bool
) -> PullInfo:
    """Open the PR; where drafts are not supported (private repositories on some plans),
    open it ready for review instead: the labels and gates still hold it back. After an answer
    that leaves it unknown, the open PR from `branch` tells whether it was opened."""
    pulls = repo.github.rest.pulls
    title, body = repo.redacted(title), repo.writable(body)

    async def create(as_draft: bool) -> PullInfo:
        response = await pulls.async_create(
            repo.owner, repo.name, title=title, head=branch, base=base, body=body, draft=as_draft
        )
        return _info(response.parsed_data)

    async def write() -> PullInfo:
        try:
            return await create(draft)
        except GitHubRefused as exc:
            if not (draft and "Draft" in exc.reason):
                raise
            return await create(False)

    async def landed() -> PullInfo | None:
        """Triad's own open PR from `branch` onto `base` (never one someone else opened)."""
        mine = [
            pull
            for pull in await open_pulls_from(repo, branch)
            if (repo.me is None or pull.author == repo.me) and pull.base_ref == base
        ]
        return mine[0] if mine else None

    return await write_once(
        write,
        landed,
        what=f"pull request from {branch}",
        delay=repo.retry_delay,
    )


async def update_body(repo: Repo, number: int, body: str) -> None:
    await repo.github.rest.pulls.async_update(
        repo.owner, repo.name, number, body=repo.writable(body)
    )


async def diff(repo: Repo, number: int) -> str:
    response = await repo.github.rest.pulls.async_get(
        repo.owner, repo.name, number, headers={"Accept": DIFF_MEDIA_TYPE}
    )
    return response.text


async def diff_between(repo: Repo, base_sha: str, head_sha: str) -> str | None:
    """The diff from `base_sha` to `head_sha` (what a re-review reads), or None when GitHub
    cannot compare them (a force-push left the older commit behind)."""
    try:
        response = await repo.github.rest.repos.async_compare_commits(
            repo.owner, repo.name, f"{base_sha}...{head_sha}", headers={"Accept": DIFF_MEDIA_TYPE}
        )
    except (GitHubNotFound, GitHubRefused):
        return None
    return response.text


async def mark_ready(repo: Repo, node_id: str) -> None:
    """Draft → ready for review; REST cannot do this, GraphQL can."""
    await repo.github.async_graphql(
        "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id})"
        " { pullRequest { isDraft } } }",
        {"id": node_id},
    )


async def notes_since(repo: Repo, number: int, since: str, exclude: str) -> list[ReviewNote]:
    """What people (not `exclude`, Triad itself) said on the PR since `since` (str(datetime))."""
    notes: list[ReviewNote] = []
    async for review in _reviews(repo, number):
        when = str(review.submitted_at or "")
        author = review.user.login if review.user else "ghost"
        if review.body and when >= since and author != exclude:
            notes.append(ReviewNote(author, review.body, None, None, when))
    async for note in _review_comments(repo, number):
        author = note.user.login if note.user else "ghost"
        if str(note.created_at) >= since and author != exclude:
            line = note.line or None  # None (or left out) on an outdated comment
            notes.append(ReviewNote(author, note.body, note.path, line, str(note.created_at)))
    for comment in await repo.comments(number):
        if comment.created_at >= since and comment.author != exclude:
            notes.append(ReviewNote(comment.author, comment.body, None, None, comment.created_at))
    return sorted(notes, key=lambda n: n.created_at)


@dataclass(frozen=True)
class PostedReview:
    id: int
    author: str
    body: str
    commit_id: str


async def reviews(repo: Repo, number: int) -> list[PostedReview]:
    found = []
    async for review in _reviews(repo, number):
        author = review.user.login if review.user else "ghost"
        found.append(PostedReview(review.id, author, review.body or "", review.commit_id or ""))
    return found


async def review_comment_keys(repo: Repo, number: int, author: str) -> set[tuple[str, int, str]]:
    """(path, line, normalised body) of `author`'s inline comments: never post one twice."""
    keys = set()
    async for note in _review_comments(repo, number):
        if note.user and note.user.login == author and isinstance(note.line, int):
            keys.add((note.path, note.line, " ".join(note.body.lower().split())))
    return keys


class LineComment(Protocol):
    """A comment on line `line` of `path` as the PR changes it (the diff's right side)."""

    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def body(self) -> str: ...


async def post_review(
    repo: Repo, number: int, sha: str, body: str, comments: Sequence[LineComment]
) -> int:
    """A comment review (an App may not approve its own PR) with inline comments. After an
    answer that leaves it unknown, Triad's review with this very body tells whether it was
    posted (a review's body carries its reviewer's marker and the head commit)."""

    async def write() -> int:
        response = await repo.github.rest.pulls.async_create_review(
            repo.owner,
            repo.name,
            number,
            commit_id=sha,
            body=repo.writable(body),
            event="COMMENT",
            comments=[
                {"path": c.path, "line": c.line, "side": "RIGHT", "body": repo.writable(c.body)}
                for c in comments
            ],
        )
        return response.parsed_data.id

    async def landed() -> int | None:
        mine = [r for r in await reviews(repo, number) if r.body == repo.writable(body)]
        return next((r.id for r in mine if repo.me is None or r.author == repo.me), None)

    return await write_once(write, landed, what=f"review on #{number}", delay=repo.retry_delay)


async def changes_since(repo: Repo, number: int, since_sha: str) -> str:
    """The PR's commits after `since_sha` and the files they touched, for a re-review."""
    rest = repo.github.rest
    response = await rest.pulls.async_list_commits(repo.owner, repo.name, number, per_page=100)
    commits: list[Commit] = response.parsed_data
    shas = [c.sha for c in commits]
    if since_sha not in shas:
        return ""
    newer = shas[shas.index(since_sha) + 1 :]
    lines = []
    for sha in newer:
        detail = (await rest.repos.async_get_commit(repo.owner, repo.name, sha)).parsed_data
        files = ", ".join(f"`{f.filename}`" for f in detail.files or [])
        subject = detail.commit.message.splitlines()[0] if detail.commit.message else ""
        lines.append(f"- {sha[:7]} {subject}: {files}")
    return "\n".join(lines)


async def merge(repo: Repo, number: int, head_sha: str) -> str | None:
    """Merge the PR at exactly `head_sha`; None when done, else GitHub's reason why not. A
    merge whose answer was lost (or that an earlier attempt made) is found merged."""

    async def landed() -> bool | None:
        pull = await get_pull(repo, number)
        return True if pull is not None and pull.merged else None

    async def write() -> bool:
        await repo.github.rest.pulls.async_merge(
            repo.owner, repo.name, number, sha=head_sha, merge_method="merge"
        )
        return True

    try:
        await write_once(write, landed, what=f"merge of #{number}", delay=repo.retry_delay)
    except (GitHubRefused, GitHubConflict) as exc:  # not mergeable, head moved, ...
        if await landed():
            return None
        return exc.message or str(exc.status)
    return None


def _reviews(repo: Repo, number: int) -> Paginator[PullRequestReview]:
    rest = repo.github.rest
    return rest.paginate(
        rest.pulls.async_list_reviews, owner=repo.owner, repo=repo.name, pull_number=number
    )


def _review_comments(repo: Repo, number: int) -> Paginator[PullRequestReviewComment]:
    rest = repo.github.rest
    return rest.paginate(
        rest.pulls.async_list_review_comments, owner=repo.owner, repo=repo.name, pull_number=number
    )
