"""The demo's repository: a tiny Python package with one issue worth designing."""

from __future__ import annotations

REPOSITORY = "acme/widgets"
MAINTAINER = "alice"
CONTRIBUTOR = "carol"
OUTSIDER = "mallory"

FILES = {
    "README.md": (
        "# widgets\n\nSmall helpers for spinning widgets.\n\n"
        "```python\nfrom widgets.core import spin\nspin(3)  # 4\n```\n"
    ),
    "pyproject.toml": (
        '[project]\nname = "widgets"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    ),
    "widgets/__init__.py": '"""Small helpers for spinning widgets."""\n',
    "widgets/core.py": (
        '"""Spinning."""\n\n\ndef spin(turns: int) -> int:\n'
        '    """One more turn than asked for (a historical accident)."""\n'
        "    return turns + 1\n"
    ),
    "tests/test_core.py": (
        "from widgets.core import spin\n\n\ndef test_spin_adds_a_turn():\n    assert spin(3) == 4\n"
    ),
    ".github/workflows/ci.yml": (
        "name: CI\non: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - run: pip install pytest && pytest\n"
    ),
}

ISSUE_TITLE = "Add a `--reverse` option to spin widgets backwards"
ISSUE_BODY = (
    "Users want to spin widgets backwards. `spin()` should accept a direction, and the\n"
    "behaviour of the existing call must not change.\n"
)
COLLABORATORS = {MAINTAINER: "maintain", CONTRIBUTOR: "write", OUTSIDER: "read"}
