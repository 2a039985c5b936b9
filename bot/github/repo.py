"""The reads and writes Triad makes on one repository, over a githubkit installation client.

Every write that could be repeated by a retried job is idempotent here: comments carry a
hidden marker and are found again by it; labels are added or removed only when needed.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from githubkit import GitHub

from bot.errors import GitHubNotFound, GitHubRefused
from bot.github.markers import carries, fitted, marker
from bot.github.writes import write_once
from bot.workflow.model import Permission

if TYPE_CHECKING:
    from githubkit.rest import Paginator
    from githubkit_schemas.latest.models import IssueComment as CommentData
    from githubkit_schemas.latest.models import Label


@dataclass(frozen=True)
class IssueComment:
    id: int
    author: str
    author_is_bot: bool
    body: str
    created_at: str


@dataclass(frozen=True)
class IssueText:
    number: int
    title: str
    body: str
    author: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str


class Repo:
    """One repository, seen through an installation's client."""

    def __init__(
        self,
        github: GitHub[Any],
        full_name: str,
        me: str | None = None,
        redact: Callable[[str], str] | None = None,
        retry_delay: float = 1.0,
    ) -> None:
        """`me` is Triad's bot login: only its comments are searched for markers. `redact`
        blanks configured secrets out of everything Triad writes (comments, PRs, reviews).
        `retry_delay` paces a write sent again after it failed and did not land."""
        self.github = github
        self.full_name = full_name
        self.owner, self.name = full_name.split("/", 1)
        self.me = me
        self._redact = redact
        self.retry_delay = retry_delay

    def redacted(self, text: str) -> str:
        """`text` as Triad may write it on GitHub: with every known secret blanked out."""
        return self._redact(text) if self._redact is not None else text

    def writable(self, body: str) -> str:
        """`body` as Triad writes it on GitHub: redacted, and cut to what GitHub keeps."""
        return fitted(self.redacted(body))

    # -- people ----------------------------------------------------------------------------

    async def permission(self, login: str) -> Permission:
        """The person's role (admin, maintain, write, triage, read) or none."""
        try:
            response = await self.github.rest.repos.async_get_collaborator_permission_level(
                self.owner, self.name, login
            )
        except GitHubNotFound:
            return Permission.NONE
        data = response.parsed_data
        # role_name is the finer role (maintain, triage) or a custom one; permission the coarse
        known = {p.value for p in Permission}
        for role in (data.role_name, data.permission):
            if role in known:
                return Permission(role)
        return Permission.NONE

    # -- issues and comments ---------------------------------------------------------------

    async def issue(self, number: int) -> IssueText:
        data = (await self.github.rest.issues.async_get(self.owner, self.name, number)).parsed_data
        labels = tuple(
            label if isinstance(label, str) else (label.name or "") for label in data.labels
        )
        return IssueText(
            number=data.number,
            title=data.title,
            body=data.body or "",
            author=data.user.login if data.user else "ghost",
            labels=labels,
        )

    async def comments(self, number: int) -> list[IssueComment]:
        found = []
        pages: Paginator[CommentData] = self.github.rest.paginate(
            self.github.rest.issues.async_list_comments,
            owner=self.owner,
            repo=self.name,
            issue_number=number,
            per_page=100,
        )
        async for comment in pages:
            user = comment.user
            found.append(
                IssueComment(
                    id=comment.id,
                    author=user.login if user else "ghost",
                    author_is_bot=bool(user and user.type == "Bot"),
                    body=comment.body or "",
                    created_at=str(comment.created_at),
                )
            )
        return found

    async def comment_body(self, comment_id: int) -> str | None:
        try:
            response = await self.github.rest.issues.async_get_comment(
                self.owner, self.name, comment_id
            )
        except GitHubNotFound:
            return None
        return response.parsed_data.body or ""

    async def find_comment(self, number: int, key: str) -> IssueComment | None:
        """Triad's comment carrying `key`'s marker, if it was posted before."""
        for comment in await self.comments(number):
            if carries(comment.body, key) and self.is_mine(comment):
                return comment
        return None

    def is_mine(self, comment: IssueComment) -> bool:
        """Written by Triad itself (when its login is known, by that login only)."""
        return comment.author == self.me if self.me else comment.author_is_bot

    async def create_comment(self, number: int, body: str) -> int:
        response = await self.github.rest.issues.async_create_comment(
            self.owner, self.name, number, body=self.writable(body)
        )
        return response.parsed_data.id

    async def update_comment(self, comment_id: int, body: str) -> None:
        await self.github.rest.issues.async_update_comment(
            self.owner, self.name, comment_id, body=self.writable(body)
        )

    async def comment_once(self, number: int, key: str, body: str) -> int:
        """Post `body` under `key`'s marker unless a comment with that marker exists."""
        existing = await self.find_comment(number, key)
        if existing is not None:
            return existing.id
        return await self._create_marked(number, key, f"{marker(key)}\n{body}")

    async def upsert_comment(self, number: int, key: str, body: str) -> int:
        """Create or update the one comment carrying `key`'s marker; returns its id."""
        text = self.writable(f"{marker(key)}\n{body}")
        existing = await self.find_comment(number, key)
        if existing is None:
            return await self._create_marked(number, key, text)
        if existing.body != text:
            await self.update_comment(existing.id, text)
        return existing.id

    async def _create_marked(self, number: int, key: str, text: str) -> int:
        """Create a comment carrying `key`'s marker, once: after an unclear failure the marker
        tells whether it was posted."""

        async def landed() -> int | None:
            found = await self.find_comment(number, key)
            return found.id if found else None

        return await write_once(
            lambda: self.create_comment(number, text),
            landed,
            what=f"comment {key} on #{number}",
            delay=self.retry_delay,
        )

    # -- labels ----------------------------------------------------------------------------

    async def add_label(self, number: int, name: str) -> None:
        await self.github.rest.issues.async_add_labels(self.owner, self.name, number, labels=[name])

    async def remove_label(self, number: int, name: str) -> None:
        """Remove a label; one that is not there is already removed."""
        with contextlib.suppress(GitHubNotFound):
            await self.github.rest.issues.async_remove_label(self.owner, self.name, number, name)

    async def ensure_labels(self, specs: list[LabelSpec]) -> list[str]:
        """Create the labels that are missing; returns the names created."""
        pages: Paginator[Label] = self.github.rest.paginate(
            self.github.rest.issues.async_list_labels_for_repo,
            owner=self.owner,
            repo=self.name,
            per_page=100,
        )
        existing = {label.name async for label in pages}
        created = []
        for spec in specs:
            if spec.name in existing:
                continue
            with contextlib.suppress(GitHubRefused):  # created meanwhile: "already_exists"
                await self.github.rest.issues.async_create_label(
                    self.owner,
                    self.name,
                    name=spec.name,
                    color=spec.color,
                    description=spec.description,
                )
            created.append(spec.name)
        return created

    # -- contents --------------------------------------------------------------------------

    async def default_branch(self) -> str:
        response = await self.github.rest.repos.async_get(self.owner, self.name)
        return response.parsed_data.default_branch

    async def head_commit(self) -> str:
        """The SHA of the default branch's head commit (GitHub resolves `HEAD` to it)."""
        response = await self.github.rest.repos.async_get_commit(self.owner, self.name, "HEAD")
        return response.parsed_data.sha

    async def read_file(self, path: str, ref: str | None = None) -> str | None:
        """A text file's content at `ref` (default branch when None), or None if absent."""
        try:
            if ref is None:
                response = await self.github.rest.repos.async_get_content(
                    self.owner, self.name, path
                )
            else:
                response = await self.github.rest.repos.async_get_content(
                    self.owner, self.name, path, ref=ref
                )
        except GitHubNotFound:
            return None
        data = response.parsed_data
        content = getattr(data, "content", None)
        if getattr(data, "type", None) != "file" or content is None:
            return None
        return base64.b64decode(content).decode("utf-8", errors="replace")

    async def tree(self, ref: str) -> list[tuple[str, int]]:
        """Every file path at `ref` with its size, from one recursive tree read."""
        response = await self.github.rest.git.async_get_tree(
            self.owner, self.name, ref, recursive="1"
        )
        return [
            (entry.path or "", entry.size or 0)
            for entry in response.parsed_data.tree
            if entry.type == "blob"
        ]
