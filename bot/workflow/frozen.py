"""What the models read, frozen at the gate: the issue's title and body and the comments the
architect used, with their hash, stored beside the design they led to.

Anyone who can open an issue can edit it; once a writer approved a design, nothing written
later reaches the developer or the reviewers: they read this copy, never the live issue. An
edit between proposal and approval voids the approval (the approver did not see it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FrozenComment:
    id: int
    author: str
    body: str


@dataclass(frozen=True)
class FrozenIssue:
    """The issue as the architect read it."""

    number: int
    title: str
    body: str
    author: str
    comments: tuple[FrozenComment, ...] = field(default=())

    @property
    def text_hash(self) -> str:
        """What approval compares with the live issue: its title and body."""
        return issue_text_hash(self.title, self.body)

    @property
    def content_hash(self) -> str:
        """Everything frozen: title, body and the comments used."""
        return _digest(asdict(self))

    def to_dict(self) -> dict[str, Any]:
        """As stored with the workflow (the hashes too, for an operator reading the store)."""
        return asdict(self) | {"text_hash": self.text_hash, "hash": self.content_hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrozenIssue:
        comments = tuple(
            FrozenComment(int(c["id"]), str(c["author"]), str(c["body"]))
            for c in data.get("comments", ())
        )
        return cls(
            int(data["number"]),
            str(data["title"]),
            str(data["body"]),
            str(data["author"]),
            comments,
        )


def freeze(
    number: int, title: str, body: str, author: str, comments: Iterable[FrozenComment] = ()
) -> FrozenIssue:
    return FrozenIssue(number, _text(title), _text(body), author, tuple(comments))


def issue_text_hash(title: str, body: str) -> str:
    """The hash of an issue's title and body (line endings normalised)."""
    return _digest([_text(title), _text(body)])


def _text(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n")


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
