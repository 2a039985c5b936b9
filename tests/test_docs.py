"""The docs agree with the code: the README names every reason the routing table gives for an
ignored delivery, and the Makefile's comments name files that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ignore_codes() -> set[str]:
    """Every code an `Ignored(reason, code)` in bot/routing is given, and the default one."""
    codes = set()
    for path in (ROOT / "bot" / "routing").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Ignored"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(str(node.args[1].value))
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == "code"
                and isinstance(node.value, ast.Constant)
            ):
                codes.add(str(node.value.value))
    return codes


def test_the_readme_names_every_ignore_reason_code() -> None:
    codes = _ignore_codes()
    assert {"no_route", "no_installation", "own_event", "not_acted_on"} <= codes
    metrics_row = next(
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `triad_webhook_ignored_total")
    )
    assert {code for code in codes if f"`{code}`" not in metrics_row} == set()


def test_the_makefile_names_test_files_that_exist() -> None:
    named = re.findall(r"tests/[\w/]+\.py", (ROOT / "Makefile").read_text())
    assert named and [name for name in named if not (ROOT / name).is_file()] == []


def test_the_readme_says_how_to_require_triads_check_safely() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "with Triad's App as its source" in readme.replace("**", "")
    assert "issues of this repository it closes" in readme
    assert "the new head has no Triad check until a writer asks" in readme
    assert "never posts an inline comment it already posted" not in readme
