"""The developer's edits: applied exactly, or refused with the reason the repair round needs."""

from __future__ import annotations

import pytest

from bot.roles.developer.edits import (
    EditPolicy,
    HeldEdit,
    apply_edits,
    is_protected,
    is_sensitive,
    path_problem,
)
from bot.roles.developer.schema import FileEdit

POLICY = EditPolicy(frozenset({"src/app.py", "README.md"}), (".github/workflows/", "secrets"))


def edit(**fields: object) -> FileEdit:
    base = {"plan_step": 1, "reason": "", "replacements": [], "content": None}
    return FileEdit.model_validate(base | fields)


def test_search_replace_applies_once_or_says_why_not() -> None:
    files = {"src/app.py": "a = 1\nb = 2\nb = 2\n"}
    ok = apply_edits(
        files,
        [
            edit(
                path="src/app.py",
                action="modify",
                replacements=[{"search": "a = 1", "replace": "a = 3"}],
            )
        ],
        POLICY,
    )
    assert ok.changes == {"src/app.py": "a = 3\nb = 2\nb = 2\n"} and ok.steps_done == {1}
    twice = apply_edits(
        files,
        [
            edit(
                path="src/app.py",
                action="modify",
                replacements=[{"search": "b = 2", "replace": "x"}],
            )
        ],
        POLICY,
    )
    assert twice.changes == {} and "found 2 times" in twice.problems[0]
    missing = apply_edits(
        files,
        [
            edit(
                path="src/app.py", action="modify", replacements=[{"search": "zzz", "replace": "x"}]
            )
        ],
        POLICY,
    )
    assert "not found" in missing.problems[0]


def test_create_modify_delete_rules() -> None:
    files = {"README.md": "# x\n", "src/app.py": None}
    result = apply_edits(
        files,
        [
            edit(path="src/app.py", action="create", content="print(1)\n"),
            edit(path="README.md", action="delete"),
            edit(path="README.md", action="create", content="again"),
        ],
        POLICY,
    )
    assert result.changes == {"src/app.py": "print(1)\n", "README.md": "again"}
    refused = apply_edits(
        {"README.md": "# x\n"}, [edit(path="README.md", action="create", content="y")], POLICY
    )
    assert "already exists" in refused.problems[0]


def test_paths_outside_the_repository_protected_or_unplanned_are_refused() -> None:
    for path in (
        "../etc/passwd",
        "/etc/passwd",
        "a/./b",
        "src\\app.py",
        ".git/config",
        "x/.GIT/hooks/pre",
    ):
        assert path_problem(path), path
    assert is_protected(".github/workflows/ci.yml", POLICY.protected)
    assert is_protected("secrets/key.pem", POLICY.protected)  # a rule without a slash
    assert is_protected("secrets", POLICY.protected)
    assert is_protected("deploy/prod.env", ("./deploy/",))
    assert not is_protected("secretsauce.py", POLICY.protected)
    unplanned = apply_edits(
        {"other.py": "x", "src/app.py": "a"},
        [
            edit(path="other.py", action="modify", content="y", reason="the import moved"),
            edit(path="src/app.py", action="modify", content="b"),
        ],
        POLICY,
    )
    # outside the plan: never applied, even with a reason; held for a human with the reason
    assert unplanned.changes == {"src/app.py": "b"}
    assert unplanned.outside_plan == (HeldEdit("other.py", "the import moved", False),)


@pytest.mark.parametrize(
    "path",
    [
        ".GITHUB/workflows/ci.yml",
        ".github/Workflows/ci.yml",
        ".github/workflows /ci.yml",
        ".github/work\u200bflows/ci.yml",
        ".github/workflows/ci.yml\nREADME.md",
        "README\u202e.md",
        " README.md",
        "src/app.py\t",
        "\x00",
    ],
)
def test_protected_paths_cannot_be_reached_by_case_spaces_or_invisible_characters(
    path: str,
) -> None:
    result = apply_edits({path: "x"}, [edit(path=path, action="modify", content="y")], POLICY)
    assert result.changes == {} and result.problems and result.problems[0].startswith("refused")


def test_sensitive_paths_need_the_plan_even_when_allowed() -> None:
    policy = EditPolicy(
        frozenset({"README.md", "tox.ini"}),
        (".github/workflows/",),
        sensitive=("conftest.py", "Makefile", "*.sh", "tox.ini"),
        allowed=frozenset({"docs/x.md", "tests/conftest.py", ".github/CODEOWNERS"}),
    )
    files = dict.fromkeys(
        (
            "docs/x.md",
            "tests/conftest.py",
            ".github/CODEOWNERS",
            ".github/actions/setup/action.yml",
            ".github/triad.yml",
            "MAKEFILE",
            "scripts/run.SH",
            "tox.ini",
        ),
        "old",
    )
    edits = [edit(path=path, action="modify", content="new", reason="r") for path in files]
    result = apply_edits(files, edits, policy)
    # allowed by a writer and run by nothing: applied; named in the plan: applied
    assert set(result.changes) == {"docs/x.md", "tox.ini"}
    assert {held.path for held in result.outside_plan if held.sensitive} == {
        "tests/conftest.py",
        ".github/CODEOWNERS",
        ".github/actions/setup/action.yml",
        ".github/triad.yml",
        "MAKEFILE",
        "scripts/run.SH",
    }
    assert is_sensitive(".GitHub/x", ()) and not is_sensitive("docs/github.md", ())


def test_a_file_the_developer_was_not_shown_is_not_rewritten() -> None:
    policy = EditPolicy(POLICY.plan_paths, POLICY.protected, unseen=frozenset({"src/app.py"}))
    result = apply_edits(
        {"src/app.py": ""}, [edit(path="src/app.py", action="modify", content="")], policy
    )
    assert "was not shown" in result.problems[0]
