"""Apply the developer's edits to the files they touch, or say exactly why they do not apply.

Pure: the caller reads the current files and commits the result. The approved plan is the
developer's allow-list: an edit to any other path is never applied; it is held for a human
(`EditResult.outside_plan`), who may allow it (`/triad resume allow`) unless the path is one CI
or tooling executes (`sensitive`), which only an approved plan may name. Paths outside the
repository, with invisible or control characters, and protected paths are refused.

Rules are matched on a normalised path (`bot.roles.paths`); the plan itself is matched exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.roles.developer.schema import FileEdit
from bot.roles.paths import ALWAYS_SENSITIVE, is_protected, is_sensitive, path_problem

__all__ = [
    "EditPolicy",
    "EditResult",
    "HeldEdit",
    "apply_edits",
    "is_protected",
    "is_sensitive",
    "path_problem",
]


@dataclass(frozen=True)
class EditPolicy:
    plan_paths: frozenset[str]
    protected: tuple[str, ...]
    #: paths CI or tooling executes: changed only when the approved plan names them
    sensitive: tuple[str, ...] = (ALWAYS_SENSITIVE,)
    #: paths outside the plan a writer allowed (`/triad resume allow`)
    allowed: frozenset[str] = frozenset()
    #: files that exist but whose content the developer was not shown (too large, binary,
    #: over budget): it may not rewrite or delete what it has not read
    unseen: frozenset[str] = frozenset()

    def may_edit(self, path: str) -> bool:
        """The plan names it, or a writer allowed it and CI does not execute it."""
        if path in self.plan_paths:
            return True
        return path in self.allowed and not is_sensitive(path, self.sensitive)


@dataclass(frozen=True)
class HeldEdit:
    """An edit outside the plan, not applied: its path, the model's reason, and whether CI or
    tooling executes the path (then only a new, approved plan can name it)."""

    path: str
    reason: str
    sensitive: bool


@dataclass(frozen=True)
class EditResult:
    #: path -> new content, or None to delete
    changes: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: plan steps (1-based) some edit carried out
    steps_done: frozenset[int] = frozenset()
    #: edits to paths outside the plan: none is applied, the round stops for a human
    outside_plan: tuple[HeldEdit, ...] = ()


def apply_edits(
    current: Mapping[str, str | None], edits: list[FileEdit], policy: EditPolicy
) -> EditResult:
    """`current` holds every touched path's content (None: the file does not exist)."""
    files = dict(current)
    changes: dict[str, str | None] = {}
    problems: list[str] = []
    steps: set[int] = set()
    held: dict[str, HeldEdit] = {}
    for edit in edits:
        problem = _refusal(edit, policy)
        if problem is None and not policy.may_edit(edit.path):
            sensitive = is_sensitive(edit.path, policy.sensitive)
            held.setdefault(edit.path, HeldEdit(edit.path, edit.reason.strip(), sensitive))
            continue
        problem = problem or _apply(edit, files)
        if problem:
            problems.append(problem)
            continue
        changes[edit.path] = files[edit.path]
        if edit.plan_step:
            steps.add(edit.plan_step)
    return EditResult(changes, problems, frozenset(steps), tuple(held.values()))


def _refusal(edit: FileEdit, policy: EditPolicy) -> str | None:
    problem = path_problem(edit.path)
    if problem:
        return f"refused: {problem}"
    if is_protected(edit.path, policy.protected):
        return f"refused: `{edit.path}` is a protected path (`protected_paths` in the config)"
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
