"""A git object store: blobs, trees and commits hashed exactly as git hashes them.

The simulator keeps repositories here so that the SHAs, trees and diffs Triad sees are real:
a commit made through the Git Data API has the SHA `git` would give it, and a diff is the
unified diff `git diff` would print (without rename detection).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

BLOB_MODE = "100644"
EXECUTABLE_MODE = "100755"
SYMLINK_MODE = "120000"
TREE_MODE = "040000"
EMPTY_SHA = "0" * 40
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
#: one of difflib's opcodes: (tag, i1, i2, j1, j2)
Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class ObjectMissing(KeyError):
    """No object with that SHA (or not of the expected type)."""


@dataclass(frozen=True)
class TreeEntry:
    name: str
    mode: str
    type: str  # "blob" or "tree"
    sha: str


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int  # seconds since the epoch, UTC

    def line(self) -> str:
        return f"{self.name} <{self.email}> {self.timestamp} +0000"


@dataclass(frozen=True)
class CommitObject:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True)
class FileChange:
    """One file's change between two trees, as GitHub's compare and PR files list it."""

    path: str
    status: str  # added, modified, removed
    old_sha: str
    new_sha: str
    additions: int
    deletions: int
    patch: str  # hunks only, starting at the first "@@"
    header: str  # the `diff --git` lines before the hunks


class ObjectStore:
    """Content-addressed objects; in memory, as the simulator's state is."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[str, bytes]] = {}

    def put(self, kind: str, data: bytes) -> str:
        sha = hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()
        self._objects[sha] = (kind, data)
        return sha

    def get(self, sha: str, kind: str) -> bytes:
        found = self._objects.get(sha)
        if found is None or found[0] != kind:
            raise ObjectMissing(sha)
        return found[1]

    def kind(self, sha: str) -> str | None:
        found = self._objects.get(sha)
        return found[0] if found else None

    # -- blobs -----------------------------------------------------------------------------

    def blob(self, content: bytes) -> str:
        return self.put("blob", content)

    def read_blob(self, sha: str) -> bytes:
        return self.get(sha, "blob")

    # -- trees -----------------------------------------------------------------------------

    def tree(self, entries: list[TreeEntry]) -> str:
        # git orders entries by name, a tree's name compared as if it ended with "/"
        ordered = sorted(entries, key=lambda e: e.name + ("/" if e.type == "tree" else ""))
        data = b"".join(
            f"{e.mode.lstrip('0')} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha)
            for e in ordered
        )
        return self.put("tree", data)

    def read_tree(self, sha: str) -> list[TreeEntry]:
        data = self.get(sha, "tree")
        entries, position = [], 0
        while position < len(data):
            space = data.index(b" ", position)
            nul = data.index(b"\0", space)
            mode = data[position:space].decode().rjust(6, "0")
            name = data[space + 1 : nul].decode()
            sha_hex = data[nul + 1 : nul + 21].hex()
            kind = "tree" if mode == TREE_MODE else "blob"
            entries.append(TreeEntry(name, mode, kind, sha_hex))
            position = nul + 21
        return entries

    def flatten(self, tree_sha: str, prefix: str = "") -> dict[str, TreeEntry]:
        """Every blob under the tree by its full path."""
        files: dict[str, TreeEntry] = {}
        for entry in self.read_tree(tree_sha):
            path = f"{prefix}{entry.name}"
            if entry.type == "tree":
                files.update(self.flatten(entry.sha, f"{path}/"))
            else:
                files[path] = TreeEntry(path, entry.mode, "blob", entry.sha)
        return files

    def walk(self, tree_sha: str, prefix: str = "") -> list[TreeEntry]:
        """Every entry (trees too) under the tree, with full paths, as `recursive=1` lists."""
        found: list[TreeEntry] = []
        for entry in self.read_tree(tree_sha):
            path = f"{prefix}{entry.name}"
            found.append(TreeEntry(path, entry.mode, entry.type, entry.sha))
            if entry.type == "tree":
                found.extend(self.walk(entry.sha, f"{path}/"))
        return found

    def build_tree(self, files: dict[str, tuple[str, str]]) -> str:
        """A tree (with its subtrees) from {path: (mode, blob sha)}."""
        here: list[TreeEntry] = []
        folders: dict[str, dict[str, tuple[str, str]]] = {}
        for path, (mode, sha) in files.items():
            head, _, rest = path.partition("/")
            if rest:
                folders.setdefault(head, {})[rest] = (mode, sha)
            else:
                here.append(TreeEntry(head, mode, "blob", sha))
        for name, inner in folders.items():
            here.append(TreeEntry(name, TREE_MODE, "tree", self.build_tree(inner)))
        return self.tree(here)

    # -- commits ---------------------------------------------------------------------------

    def commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        self.get(tree, "tree")
        for parent in parents:
            self.get(parent, "commit")
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        lines += [f"author {author.line()}", f"committer {(committer or author).line()}"]
        text = "\n".join(lines) + "\n\n" + message
        return self.put("commit", text.encode())

    def read_commit(self, sha: str) -> CommitObject:
        text = self.get(sha, "commit").decode()
        head, _, message = text.partition("\n\n")
        tree, parents, people = "", [], {}
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            else:
                who, _, rest = value.partition(" <")
                email, _, when = rest.partition("> ")
                people[key] = Signature(who, email, int(when.split()[0]))
        return CommitObject(
            sha, tree, tuple(parents), people["author"], people["committer"], message
        )

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is reachable from `descendant` (a fast-forward is possible)."""
        seen, pending = set(), [descendant]
        while pending:
            sha = pending.pop()
            if sha == ancestor:
                return True
            if sha in seen:
                continue
            seen.add(sha)
            pending.extend(self.read_commit(sha).parents)
        return False

    def merge_base(self, one: str, other: str) -> str | None:
        """The nearest commit both reach (breadth first from `other`), or None."""
        reachable, pending = set(), [one]
        while pending:
            sha = pending.pop()
            if sha not in reachable:
                reachable.add(sha)
                pending.extend(self.read_commit(sha).parents)
        queue, seen = [other], set()
        while queue:
            sha = queue.pop(0)
            if sha in reachable:
                return sha
            if sha not in seen:
                seen.add(sha)
                queue.extend(self.read_commit(sha).parents)
        return None

    def history(self, head: str, stop: str | None = None) -> list[CommitObject]:
        """Commits reachable from `head` and not from `stop`, oldest first (first parents)."""
        excluded = set()
        if stop:
            pending = [stop]
            while pending:
                sha = pending.pop()
                if sha not in excluded:
                    excluded.add(sha)
                    pending.extend(self.read_commit(sha).parents)
        commits, sha = [], head
        while sha and sha not in excluded:
            commit = self.read_commit(sha)
            commits.append(commit)
            sha = commit.parents[0] if commit.parents else ""
        return list(reversed(commits))

    # -- diffs -----------------------------------------------------------------------------

    def diff(self, base_tree: str, head_tree: str) -> list[FileChange]:
        before, after = self.flatten(base_tree), self.flatten(head_tree)
        changes = []
        for path in sorted(before.keys() | after.keys()):
            old, new = before.get(path), after.get(path)
            if old and new and old.sha == new.sha:
                continue
            changes.append(self._file_change(path, old, new))
        return changes

    def _file_change(self, path: str, old: TreeEntry | None, new: TreeEntry | None) -> FileChange:
        old_text = self.read_blob(old.sha).decode("utf-8", "replace") if old else ""
        new_text = self.read_blob(new.sha).decode("utf-8", "replace") if new else ""
        status = "added" if old is None else "removed" if new is None else "modified"
        hunks, additions, deletions = _hunks(old_text, new_text)
        old_sha, new_sha = old.sha if old else EMPTY_SHA, new.sha if new else EMPTY_SHA
        header = [f"diff --git a/{path} b/{path}"]
        if status == "added":
            header += [f"new file mode {new.mode if new else BLOB_MODE}"]
            header += [f"index {EMPTY_SHA[:7]}..{new_sha[:7]}", "--- /dev/null", f"+++ b/{path}"]
        elif status == "removed":
            header += [f"deleted file mode {old.mode if old else BLOB_MODE}"]
            header += [f"index {old_sha[:7]}..{EMPTY_SHA[:7]}", f"--- a/{path}", "+++ /dev/null"]
        else:
            mode = new.mode if new else BLOB_MODE
            header += [f"index {old_sha[:7]}..{new_sha[:7]} {mode}"]
            header += [f"--- a/{path}", f"+++ b/{path}"]
        return FileChange(
            path, status, old_sha, new_sha, additions, deletions, hunks, "\n".join(header)
        )


def _hunks(old: str, new: str) -> tuple[str, int, int]:
    """Unified-diff hunks (3 lines of context) as git prints them, without the file headers,
    and the numbers of added and deleted lines (`git diff --numstat`)."""
    old_lines, new_lines = _lines(old), _lines(new)
    matcher = _MinimalMatcher(old_lines, new_lines)
    out: list[str] = []
    additions = deletions = 0
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + line for line in old_lines[i1:i2])
                continue
            out.extend("-" + line for line in old_lines[i1:i2])
            out.extend("+" + line for line in new_lines[j1:j2])
            deletions += i2 - i1
            additions += j2 - j1
    return "\n".join(out), additions, deletions


def _range(start: int, stop: int) -> str:
    """A hunk header's `start,length`, as git (and difflib) write it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


class _MinimalMatcher(difflib.SequenceMatcher[str]):
    """difflib's hunk grouping over a minimal edit script (Myers), which is what `git diff`
    computes: difflib's own matching (longest blocks first, and "popular" lines junked in long
    files) can mark more lines changed than git does, so counts would differ from GitHub's."""

    #: beyond this many edits, fall back to difflib (without autojunk) to bound time and memory
    MAX_EDITS = 2000

    # set by difflib's set_seqs; typeshed does not declare them
    a: Sequence[str]
    b: Sequence[str]

    def __init__(self, a: list[str], b: list[str]) -> None:
        super().__init__(None, a, b, autojunk=False)

    def get_opcodes(self) -> list[Opcode]:
        steps = _myers(self.a, self.b, self.MAX_EDITS)
        return super().get_opcodes() if steps is None else _opcodes(steps)


def _myers(a: Sequence[str], b: Sequence[str], limit: int) -> list[str] | None:
    """The shortest edit script from `a` to `b` as steps "=", "-", "+" (None past `limit`)."""
    n, m = len(a), len(b)
    furthest: dict[int, int] = {1: 0}
    trace: list[dict[int, int]] = []
    for edits in range(min(n + m, limit) + 1):
        trace.append(dict(furthest))
        for k in range(-edits, edits + 1, 2):
            down = k == -edits or (k != edits and furthest[k - 1] < furthest[k + 1])
            x = furthest[k + 1] if down else furthest[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            furthest[k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return None


def _backtrack(trace: list[dict[int, int]], n: int, m: int) -> list[str]:
    steps: list[str] = []
    x, y = n, m
    for edits in range(len(trace) - 1, -1, -1):
        furthest = trace[edits]
        k = x - y
        down = k == -edits or (k != edits and furthest[k - 1] < furthest[k + 1])
        previous_k = k + 1 if down else k - 1
        previous_x = furthest[previous_k]
        previous_y = previous_x - previous_k
        while x > previous_x and y > previous_y:
            steps.append("=")
            x, y = x - 1, y - 1
        if edits:
            steps.append("+" if down else "-")
        x, y = previous_x, previous_y
    steps.reverse()
    return steps


def _opcodes(steps: list[str]) -> list[Opcode]:
    """Steps as difflib's opcodes; a run of deletions and insertions is one "replace"."""
    opcodes: list[list[Any]] = []
    i = j = 0
    for step in steps:
        tag = {"=": "equal", "-": "delete", "+": "insert"}[step]
        di, dj = (1, 1) if step == "=" else (1, 0) if step == "-" else (0, 1)
        last = opcodes[-1] if opcodes else None
        if last is not None and (last[0] == tag or "equal" not in (last[0], tag)):
            last[0] = tag if last[0] == tag else "replace"
            last[2] += di
            last[4] += dj
        else:
            opcodes.append([tag, i, i + di, j, j + dj])
        i, j = i + di, j + dj
    return [(tag, i1, i2, j1, j2) for tag, i1, i2, j1, j2 in opcodes]


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        return lines[:-1]
    if lines:
        lines[-1] += "\n\\ No newline at end of file"
    return lines


def full_diff(changes: list[FileChange]) -> str:
    """The `application/vnd.github.diff` text of a list of changes."""
    parts = []
    for change in changes:
        parts.append(change.header + ("\n" + change.patch if change.patch else ""))
    return "\n".join(parts) + ("\n" if parts else "")


def hunk_for(patch: str, line: int, side: str) -> str | None:
    """The diff hunk up to `line` when the line is in the patch on that side, else None."""
    if not patch or line <= 0:
        return None
    hunk_lines: list[str] = []
    old = new = 0
    for text in patch.split("\n"):
        match = _HUNK.match(text)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            hunk_lines = [text]
            continue
        if text.startswith("\\"):
            continue
        hunk_lines.append(text)
        if text.startswith("+"):
            if side == "RIGHT" and new == line:
                return "\n".join(hunk_lines)
            new += 1
        elif text.startswith("-"):
            if side == "LEFT" and old == line:
                return "\n".join(hunk_lines)
            old += 1
        else:
            if (side == "RIGHT" and new == line) or (side == "LEFT" and old == line):
                return "\n".join(hunk_lines)
            old += 1
            new += 1
    return None
