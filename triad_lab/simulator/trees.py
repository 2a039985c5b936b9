"""The rules of GitHub's create-tree endpoint, applied to a flat {path: (mode, sha)} map.

Each entry names its content: `content` (a new blob), or the `sha` of a blob, or of a tree for
mode 040000. Only an explicit `"sha": null` deletes. A file cannot be written where a directory
is, nor under a file, and only git's file modes are accepted.
"""

from __future__ import annotations

from typing import Any

from triad_lab.simulator.git import BLOB_MODE, EXECUTABLE_MODE, SYMLINK_MODE, TREE_MODE, ObjectStore
from triad_lab.simulator.state import ApiError, invalid

FILE_MODES = frozenset({BLOB_MODE, EXECUTABLE_MODE, SYMLINK_MODE})
Files = dict[str, tuple[str, str]]  # path -> (mode, blob sha)


def apply_entry(objects: ObjectStore, files: Files, entry: Any) -> Files:
    """`files` changed by one `tree` entry of a create-tree request, or GitHub's 422."""
    if not isinstance(entry, dict):
        raise invalid("Tree", "tree", "invalid")
    path, mode = entry.get("path"), entry.get("mode", BLOB_MODE)
    if not isinstance(path, str) or not _valid_path(path):
        raise invalid("Tree", "path", "invalid")
    if mode not in FILE_MODES | {TREE_MODE}:
        raise ApiError(422, f"tree.mode {mode!r} is not one of 100644, 100755, 120000, 040000")
    kind = "tree" if mode == TREE_MODE else "blob"
    if entry.get("type", kind) != kind:
        raise ApiError(422, f"tree.type {entry.get('type')!r} does not match mode {mode}")
    content, has_sha = entry.get("content"), "sha" in entry
    if content is not None and has_sha and entry["sha"] is not None:
        raise ApiError(422, "Use either tree.sha or content, not both")
    if content is None and not has_sha:
        raise ApiError(422, f"Must supply either tree.sha or tree.content for {path}")
    if content is None and entry["sha"] is None:
        return _delete_path(files, path)
    if content is not None:
        if kind == "tree":
            raise ApiError(422, f"tree.content cannot make a tree at {path}")
        added = {path: (mode, objects.blob(str(content).encode()))}
    elif not isinstance(entry["sha"], str) or objects.kind(entry["sha"]) != kind:
        raise ApiError(422, f"tree.sha {entry['sha']} is not a valid {kind}")
    elif kind == "tree":
        flat = objects.flatten(entry["sha"])
        added = {f"{path}/{inner}": (e.mode, e.sha) for inner, e in flat.items()}
    else:
        added = {path: (mode, entry["sha"])}
    _refuse_conflicts(files, path, kind)
    if kind == "tree":  # a tree replaces the directory's whole content
        files = _delete_path(files, path, missing_ok=True)
    return files | added


def _valid_path(path: str) -> bool:
    parts = path.split("/")
    return all(part not in {"", ".", ".."} for part in parts)


def _delete_path(files: Files, path: str, *, missing_ok: bool = False) -> Files:
    """`files` without `path` (a file, or a directory and everything under it)."""
    kept = {p: v for p, v in files.items() if p != path and not p.startswith(f"{path}/")}
    if len(kept) == len(files) and not missing_ok:
        raise ApiError(422, f"GitRPC::BadObjectState: {path} does not exist")
    return kept


def _refuse_conflicts(files: Files, path: str, kind: str) -> None:
    """A file where a directory is, a directory where a file is, or anything under a file."""
    if kind == "blob" and any(p.startswith(f"{path}/") for p in files):
        raise ApiError(422, f"tree.path {path} is a directory; delete it before writing a file")
    if kind == "tree" and path in files:
        raise ApiError(422, f"tree.path {path} is a file; delete it before writing a tree")
    parts = path.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        if parent in files:
            raise ApiError(422, f"tree.path {path} is under the file {parent}")
