"""The object store hashes as git does, so SHAs, trees and diffs match a real repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from unidiff.patch import PatchSet

from triad_lab.simulator.git import ObjectStore, Signature, full_diff

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FILES = {"README.md": "# Demo\n", "src/app.py": "print('hi')\n", "src/lib/util.py": "X = 1\n"}
WHEN = 1_760_000_000


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def test_commit_sha_matches_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git(tmp_path, "add", ".")
    tree = git(tmp_path, "write-tree")
    env = os.environ | {
        "GIT_AUTHOR_NAME": "alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_AUTHOR_DATE": f"{WHEN} +0000",
        "GIT_COMMITTER_NAME": "alice",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
        "GIT_COMMITTER_DATE": f"{WHEN} +0000",
    }
    commit = git(tmp_path, "commit-tree", tree, "-m", "Initial commit", env=env)

    objects = ObjectStore()
    blobs = {p: ("100644", objects.blob(t.encode())) for p, t in FILES.items()}
    ours_tree = objects.build_tree(blobs)
    who = Signature("alice", "alice@example.com", WHEN)
    # `git commit-tree -m` ends the message with a newline
    ours = objects.commit(ours_tree, [], "Initial commit\n", who)
    assert (ours_tree, ours) == (tree, commit)
    assert objects.read_commit(ours).message == "Initial commit\n"


def test_the_diff_is_what_git_and_unidiff_read() -> None:
    objects = ObjectStore()
    before = {p: ("100644", objects.blob(t.encode())) for p, t in FILES.items()}
    old = "\n".join(f"line {n}" for n in range(1, 21)) + "\n"
    new = old.replace("line 10\n", "line ten\nline 10.5\n")
    before["big.txt"] = ("100644", objects.blob(old.encode()))
    after = dict(before)
    after["big.txt"] = ("100644", objects.blob(new.encode()))
    after["src/new.py"] = ("100644", objects.blob(b"NEW = True\n"))
    del after["README.md"]
    changes = objects.diff(objects.build_tree(before), objects.build_tree(after))
    assert [(c.path, c.status, c.additions, c.deletions) for c in changes] == [
        ("README.md", "removed", 0, 1),
        ("big.txt", "modified", 2, 1),
        ("src/new.py", "added", 1, 0),
    ]
    patch = PatchSet(full_diff(changes))
    modified = next(f for f in patch if f.path == "big.txt")
    added_lines = [line.target_line_no for hunk in modified for line in hunk if line.is_added]
    assert added_lines == [10, 11]
    assert [f.is_added_file for f in patch] == [False, False, True]
    assert [f.is_removed_file for f in patch] == [True, False, False]
