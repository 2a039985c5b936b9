"""Another revision of this repository beside the working tree, for before/after benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """REF checked out in a detached worktree of this repository, removed after."""
    folder = Path(tempfile.mkdtemp(prefix="triad-baseline-"))
    path = folder / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)
