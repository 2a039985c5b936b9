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


def matches(path: str, rules: Iterable[str], *, names_anywhere: bool = False) -> bool:
    """Whether a rule covers the path (both sides normalised: NFC, case-folded), much as in
    a `.gitignore`: a rule with a slash (`gradle/`, `docs/conf.py`, `project/*.sbt`), or one
    starting with `/` or `./`, is anchored at the root and covers the path itself and
    everything under it, globs included; `**/` before a rule lets it start at any depth
    (`**/.cargo/`); a bare name or glob (`conftest.py`, `*.sh`) covers a file of that name at
    any depth, never a folder (`src/workspace/` is not `WORKSPACE`). With `names_anywhere` a
    bare name, with or without a trailing slash, covers a file or folder of that name at any
    depth."""
    parts = normalised(path).split("/")
    return any(_covers(parts, normalised(raw.strip()), names_anywhere) for raw in rules)


def _covers(parts: list[str], rule: str, names_anywhere: bool) -> bool:
    anchored = rule.startswith(("/", "./"))
    rule = rule.removeprefix("./").lstrip("/")
    if not rule.rstrip("/"):
        return False
    if rule.startswith("**/"):
        return any(_under(parts[at:], rule[3:]) for at in range(len(parts)))
    name = rule.rstrip("/")
    if anchored or "/" in name:
        return _under(parts, rule)
    if names_anywhere:
        return any(fnmatch.fnmatchcase(part, name) for part in parts)
    if name != rule:  # `gradle/`: the folder at the root
        return _under(parts, rule)
    return fnmatch.fnmatchcase(parts[-1], name)  # `Makefile`, `*.sh`: the file, at any depth


def _under(parts: list[str], rule: str) -> bool:
    """`parts` is what `rule` names from the root, or is under it."""
    folder = rule.rstrip("/")
    return any(
        fnmatch.fnmatchcase("/".join(parts[:count]), folder) for count in range(1, len(parts) + 1)
    )


def is_protected(path: str, protected: tuple[str, ...]) -> bool:
    """The developer may never touch it (`protected_paths`, `.github/workflows/`)."""
    return matches(path, protected, names_anywhere=True)


def is_sensitive(path: str, sensitive: tuple[str, ...]) -> bool:
    """CI or tooling executes it (`.github/` and `sensitive_paths`)."""
    return matches(path, (ALWAYS_SENSITIVE, *sensitive))
