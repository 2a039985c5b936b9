"""Which repository paths are plain, protected or sensitive: matched on a normalised path
(Unicode NFC, case-folded), so `.GITHUB/Workflows/x` is `.github/workflows/x`; a path with
invisible or control characters, or a segment with leading or trailing spaces, is no path at all.

Protected paths (`.github/workflows/`, `protected_paths`) are never changed. Sensitive paths
(all of `.github/`, `sensitive_paths`: what CI or tooling executes) are changed only when an
approved plan names them, and the design comment shows them under a warning.
"""

from __future__ import annotations

import fnmatch
import posixpath
import unicodedata
from collections.abc import Iterable

#: everything under .github/ (workflows, actions, CODEOWNERS, Triad's own config) is run or
#: trusted by GitHub and CI: always sensitive, whatever the repository's config says
ALWAYS_SENSITIVE = ".github/"


def normalised(path: str) -> str:
    """How rules see a path: Unicode NFC, case-folded."""
    return unicodedata.normalize("NFC", path).casefold()


def path_problem(path: str) -> str | None:
    """Why `path` is not a plain path inside the repository, or None."""
    if not path or path.startswith("/") or "\\" in path:
        return f"`{path!r}` is not a repository-relative path"
    hidden = next((c for c in path if _invisible(c)), None)
    if hidden is not None:
        return (
            f"{path!r} holds an invisible or control character (U+{ord(hidden):04X}); paths "
            "must be plain text"
        )
    if any(part != part.strip() for part in path.split("/")):
        return f"{path!r} has a path segment that starts or ends with a space"
    if posixpath.normpath(path) != path or path.split("/")[0] in {"..", "."}:
        return f"`{path}` is not a normalised path inside the repository"
    if any(normalised(part) == ".git" for part in path.split("/")):
        return f"`{path}` is inside a .git directory"
    return None


def _invisible(char: str) -> bool:
    """Control, format (zero-width, bidirectional), separator, private or unassigned."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def matches(path: str, rules: Iterable[str]) -> bool:
    """A rule covers the path itself, everything under it (with or without a trailing slash),
    or what its glob matches; a rule without a slash also matches a file or folder of that
    name at any depth (`conftest.py`, `*.sh`). `./` and `/` at a rule's start are ignored.
    Both sides are normalised (NFC, case-folded)."""
    target = normalised(path)
    parts = target.split("/")
    for raw in rules:
        rule = normalised(raw.strip().removeprefix("./").lstrip("/"))
        if not rule:
            continue
        folder = rule.rstrip("/")
        if target == folder or target.startswith(folder + "/"):
            return True
        if fnmatch.fnmatchcase(target, rule):
            return True
        if "/" not in folder and any(fnmatch.fnmatchcase(part, folder) for part in parts):
            return True
    return False


def is_protected(path: str, protected: tuple[str, ...]) -> bool:
    """The developer may never touch it (`protected_paths`, `.github/workflows/`)."""
    return matches(path, protected)


def is_sensitive(path: str, sensitive: tuple[str, ...]) -> bool:
    """CI or tooling executes it (`.github/` and `sensitive_paths`)."""
    return matches(path, (ALWAYS_SENSITIVE, *sensitive))
