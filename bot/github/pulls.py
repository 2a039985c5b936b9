"""The pull request Triad opens for an issue, and what people said on it."""

from __future__ import annotations

from dataclasses import dataclass

from githubkit.exception import RequestFailed

from bot.github.repo import Repo

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


@dataclass(frozen=True)
class ReviewNote:
    """A person's word on the PR: a review, an inline comment or a conversation comment."""

    author: str
    body: str
    path: str | None
    line: int | None
    created_at: str


def _info(data: object) -> PullInfo:
    return PullInfo(
        number=data.number,  # type: ignore[attr-defined]
        node_id=data.node_id,  # type: ignore[attr-defined]
        head_ref=data.head.ref,  # type: ignore[attr-defined]
        head_sha=data.head.sha,  # type: ignore[attr-defined]
        body=data.body or "",  # type: ignore[attr-defined]
        draft=bool(getattr(data, "draft", False)),
        html_url=data.html_url,  # type: ignore[attr-defined]
        head_repo=getattr(data.head.repo, "full_name", None),  # type: ignore[attr-defined]
    )


async def find_open_pull(repo: Repo, branch: str) -> PullInfo | None:
    """The open PR from `branch`, if one exists (so a retried job never opens a second)."""
    response = await repo.github.rest.pulls.async_list(
        repo.owner, repo.name, state="open", head=f"{repo.owner}:{branch}", per_page=10
    )
    for data in response.parsed_data:
        if data.head.ref == branch:
            return _info(data)
    return None


async def get_pull(repo: Repo, number: int) -> PullInfo | None:
    try:
        response = await repo.github.rest.pulls.async_get(repo.owner, repo.name, number)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return None
        raise
    return _info(response.parsed_data)


async def open_pull(
    repo: Repo, *, branch: str, base: str, title: str, body: str, draft: bool
) -> PullInfo:
    """Open the PR; where drafts are not supported (private repositories on some plans),
    open it ready for review instead: the labels and gates still hold it back."""
    pulls = repo.github.rest.pulls
    try:
        response = await pulls.async_create(
            repo.owner, repo.name, title=title, head=branch, base=base, body=body, draft=draft
        )
    except RequestFailed as exc:
        if not (draft and exc.response.status_code == 422 and "Draft" in exc.response.text):
            raise
        response = await pulls.async_create(
            repo.owner, repo.name, title=title, head=branch, base=base, body=body, draft=False
        )
    return _info(response.parsed_data)


async def update_body(repo: Repo, number: int, body: str) -> None:
    await repo.github.rest.pulls.async_update(repo.owner, repo.name, number, body=body)


async def diff(repo: Repo, number: int) -> str:
    response = await repo.github.rest.pulls.async_get(
        repo.owner, repo.name, number, headers={"Accept": DIFF_MEDIA_TYPE}
    )
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
    rest = repo.github.rest
    notes: list[ReviewNote] = []
    async for review in rest.paginate(
        rest.pulls.async_list_reviews, owner=repo.owner, repo=repo.name, pull_number=number
    ):
        when = str(review.submitted_at or "")
        author = review.user.login if review.user else "ghost"
        if review.body and when >= since and author != exclude:
            notes.append(ReviewNote(author, review.body, None, None, when))
    async for note in rest.paginate(
        rest.pulls.async_list_review_comments, owner=repo.owner, repo=repo.name, pull_number=number
    ):
        author = note.user.login if note.user else "ghost"
        if str(note.created_at) >= since and author != exclude:
            notes.append(ReviewNote(author, note.body, note.path, note.line, str(note.created_at)))
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
    rest = repo.github.rest
    found = []
    async for review in rest.paginate(
        rest.pulls.async_list_reviews, owner=repo.owner, repo=repo.name, pull_number=number
    ):
        author = review.user.login if review.user else "ghost"
        found.append(PostedReview(review.id, author, review.body or "", review.commit_id or ""))
    return found


async def review_comment_keys(repo: Repo, number: int, author: str) -> set[tuple[str, int, str]]:
    """(path, line, normalised body) of `author`'s inline comments: never post one twice."""
    rest = repo.github.rest
    keys = set()
    async for note in rest.paginate(
        rest.pulls.async_list_review_comments, owner=repo.owner, repo=repo.name, pull_number=number
    ):
        if note.user and note.user.login == author and note.line is not None:
            keys.add((note.path, note.line, " ".join(note.body.lower().split())))
    return keys


async def post_review(
    repo: Repo, number: int, sha: str, body: str, comments: list[dict[str, object]]
) -> int:
    """A comment review (an App may not approve its own PR) with inline comments."""
    response = await repo.github.rest.pulls.async_create_review(
        repo.owner,
        repo.name,
        number,
        commit_id=sha,
        body=body,
        event="COMMENT",
        comments=comments,  # type: ignore[arg-type]
    )
    return response.parsed_data.id


async def changes_since(repo: Repo, number: int, since_sha: str) -> str:
    """The PR's commits after `since_sha` and the files they touched, for a re-review."""
    rest = repo.github.rest
    commits = (
        await rest.pulls.async_list_commits(repo.owner, repo.name, number, per_page=100)
    ).parsed_data
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
    """Merge the PR at exactly `head_sha`; None when done, else GitHub's reason why not."""
    try:
        await repo.github.rest.pulls.async_merge(
            repo.owner, repo.name, number, sha=head_sha, merge_method="merge"
        )
    except RequestFailed as exc:
        if exc.response.status_code in (405, 409, 422):
            return str(exc.response.json().get("message", exc.response.status_code))
        raise
    return None
