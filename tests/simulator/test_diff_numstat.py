"""Diff line counts match `git diff --numstat`, over many random edits.

GitHub's `additions`/`deletions` come from git's minimal diff; difflib's own matching (and its
"autojunk" of frequent lines) can count more changed lines, which Triad would then show.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from triad_lab.simulator.git import ObjectStore

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: lines that repeat, as braces, blank lines and `return` do in code
COMMON = ["", "}", "    return x", "    pass", "x = 1", "def f():", "#", "else:"]


def numstat(tmp: Path, old: str, new: str) -> tuple[int, int]:
    (tmp / "old").write_text(old)
    (tmp / "new").write_text(new)
    out = subprocess.run(
        ["git", "diff", "--no-index", "--numstat", "old", "new"],
        cwd=tmp,
        capture_output=True,
        text=True,
    ).stdout.split()
    return (int(out[0]), int(out[1])) if out else (0, 0)


def ours(old: str, new: str) -> tuple[int, int]:
    objects = ObjectStore()
    before = objects.build_tree({"f": ("100644", objects.blob(old.encode()))})
    after = objects.build_tree({"f": ("100644", objects.blob(new.encode()))})
    changes = objects.diff(before, after)
    return (changes[0].additions, changes[0].deletions) if changes else (0, 0)


def random_line(rng: random.Random) -> str:
    return rng.choice(COMMON) if rng.random() < 0.6 else f"line {rng.randint(0, 25)}"


def edited(rng: random.Random, lines: list[str]) -> list[str]:
    new = list(lines)
    for _ in range(rng.randint(1, 12)):
        where = rng.randint(0, len(new))
        action = rng.choice("idrm")
        if action == "i":
            new.insert(where, random_line(rng))
        elif action == "m" and len(new) > 4:  # move a block
            block = new[where : where + 3]
            del new[where : where + 3]
            new.insert(rng.randint(0, len(new)), "\n".join(block))
            new = "\n".join(new).split("\n")
        elif new and where < len(new):
            if action == "d":
                del new[where]
            else:
                new[where] = random_line(rng)
    return new


def text(lines: list[str], newline_at_end: bool) -> str:
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if newline_at_end else "")


def test_counts_match_git_numstat_over_random_edits(tmp_path: Path) -> None:
    rng = random.Random(20240607)
    mismatches = []
    for case in range(300):
        lines = [random_line(rng) for _ in range(rng.randint(0, 90))]
        new_lines = edited(rng, lines)
        old = text(lines, rng.random() < 0.9)
        new = text(new_lines, rng.random() < 0.9)
        if numstat(tmp_path, old, new) != ours(old, new):
            mismatches.append((case, numstat(tmp_path, old, new), ours(old, new)))
    assert mismatches == []


def test_a_long_file_of_repeated_lines_is_not_junked(tmp_path: Path) -> None:
    # difflib's autojunk ignores lines that make up over 1% of a 200+ line file: here every
    # line, so difflib would count 226 additions and 225 deletions for one inserted line
    old = "a\nb\n" * 150
    new = old[:150] + "c\n" + old[150:]
    assert ours(old, new) == numstat(tmp_path, old, new) == (1, 0)
