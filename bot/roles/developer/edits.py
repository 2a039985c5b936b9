"""Apply the developer's edits to the files they touch, or say exactly why they do not apply.

Pure: the caller reads the current files and commits the result. Paths outside the
repository, protected paths and paths outside the plan without a reason are refused.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.roles.developer.schema import FileEdit


@dataclass(frozen=True)
class EditPolicy:
    plan_paths: frozenset[str]
    protected: tuple[str, ...]
    #: files that exist but whose content the developer was not shown (too large, binary,
    #: over budget): it may not rewrite or delete what it has not read
    unseen: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EditResult:
    #: path -> new content, or None to delete
    changes: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: plan steps (1-based) some edit carried out
    steps_done: frozenset[int] = frozenset()


def path_problem(path: str) -> str | None:
    """Why `path` is not a plain path inside the repository, or None."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return f"`{path}` is not a repository-relative path"
    if posixpath.normpath(path) != path or path.split("/")[0] in {"..", "."}:
        return f"`{path}` is not a normalised path inside the repository"
    if any(part.lower() == ".git" for part in path.split("/")):
        return f"`{path}` is inside a .git directory"
    return None


def is_protected(path: str, protected: tuple[str, ...]) -> bool:
    """A rule protects the path itself, everything under it (with or without a trailing
    slash), or what its glob matches; `./` and `/` at its start are ignored."""
    for raw in protected:
        rule = raw.strip().removeprefix("./").lstrip("/")
        if not rule:
            continue
        folder = rule.rstrip("/")
        if path == folder or path.startswith(folder + "/") or fnmatch.fnmatchcase(path, rule):
            return True
    return False


def apply_edits(
    current: Mapping[str, str | None], edits: list[FileEdit], policy: EditPolicy
) -> EditResult:
    """`current` holds every touched path's content (None: the file does not exist)."""
    files = dict(current)
    changes: dict[str, str | None] = {}
    problems: list[str] = []
    steps: set[int] = set()
    for edit in edits:
        problem = _refusal(edit, policy) or _apply(edit, files)
        if problem:
            problems.append(problem)
            continue
        changes[edit.path] = files[edit.path]
        if edit.plan_step:
            steps.add(edit.plan_step)
    return EditResult(changes, problems, frozenset(steps))


def _refusal(edit: FileEdit, policy: EditPolicy) -> str | None:
    problem = path_problem(edit.path)
    if problem:
        return f"refused: {problem}"
    if is_protected(edit.path, policy.protected):
        return f"refused: `{edit.path}` is a protected path (`protected_paths` in the config)"
    if edit.path not in policy.plan_paths and not edit.reason.strip():
        return f"refused: `{edit.path}` is not in the plan and the edit gives no reason"
    if edit.path in policy.unseen and edit.action != "create":
        return f"refused: `{edit.path}` was not shown to you; ask for it in read_first"
    return None


def _apply(edit: FileEdit, files: dict[str, str | None]) -> str | None:
    """Apply one edit to `files` in place; a problem leaves them unchanged."""
    existing = files.get(edit.path)
    if edit.action == "delete":
        if existing is None:
            return f"`{edit.path}`: cannot delete a file that does not exist"
        files[edit.path] = None
        return None
    if edit.action == "create":
        if existing is not None:
            return f"`{edit.path}`: already exists; use modify"
        if edit.content is None:
            return f"`{edit.path}`: create needs the full content"
        files[edit.path] = edit.content
        return None
    if existing is None:
        return f"`{edit.path}`: cannot modify a file that does not exist; use create"
    if edit.content is not None and not edit.replacements:
        files[edit.path] = edit.content
        return None
    if not edit.replacements:
        return f"`{edit.path}`: modify needs replacements or the full content"
    text = existing
    for number, block in enumerate(edit.replacements, 1):
        found = text.count(block.search) if block.search else 0
        if found != 1:
            where = "not found" if found == 0 else f"found {found} times"
            return (
                f"`{edit.path}` replacement {number}: the search text was {where}; it must "
                f"match exactly once. It was:\n{block.search[:400]}"
            )
        text = text.replace(block.search, block.replace, 1)
    files[edit.path] = text
    return None
