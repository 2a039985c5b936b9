"""`.github/triad.yml`: defaults, overrides, and a clear list of problems instead of a crash."""

from __future__ import annotations

import pytest

from bot.repo_config import DEFAULT_SENSITIVE_PATHS, RepoConfig, parse_repo_config
from bot.roles.paths import is_protected, is_sensitive


def test_no_file_means_the_defaults() -> None:
    for text in (None, "", "   \n", "# only a comment\n"):
        loaded = parse_repo_config(text)
        assert loaded.config == RepoConfig() and loaded.problems == []
    defaults = RepoConfig()
    assert defaults.protected_paths == [".github/workflows/"]
    assert defaults.labels.design == "triad:design" and defaults.limits.ci_fix_attempts == 2


def test_a_valid_file_overrides_what_it_names() -> None:
    text = """
labels:
  design: "design please"
gates:
  review: label
  draft_pr: false
limits:
  ci_fix_attempts: 3
budget:
  dollars: 5
protected_paths: [".github/", "secrets/**"]
allowed_bots: ["renovate[bot]"]
models:
  architect: {provider: anthropic, model: claude-opus-4-1}
"""
    loaded = parse_repo_config(text)
    assert loaded.problems == []
    config = loaded.config
    assert config.labels.design == "design please" and config.labels.approved == "triad:approved"
    assert (config.gates.review, config.gates.draft_pr) == ("label", False)
    assert config.limits.ci_fix_attempts == 3 and config.budget.dollars == 5
    assert config.protected_paths == [".github/", "secrets/**"]
    assert config.models["architect"]["model"] == "claude-opus-4-1"


def test_bad_parts_are_named_and_only_they_fall_back_to_defaults() -> None:
    text = """
labels:
  design: go
  colour: red
limits:
  ci_fix_attempts: 99
gates:
  review: sometimes
surprise: true
"""
    loaded = parse_repo_config(text)
    assert loaded.config.labels.design == "go"
    assert loaded.config.limits.ci_fix_attempts == 2
    assert loaded.config.gates.review == "ci"
    assert sorted(loaded.problems) == [
        "`gates.review`: Input should be 'ci' or 'label' (got 'sometimes')",
        "`limits.ci_fix_attempts`: Input should be less than or equal to 10 (got 99)",
        "unknown key `labels.colour`",
        "unknown key `surprise`",
    ]


def test_a_file_that_is_not_yaml_or_not_a_mapping_is_reported() -> None:
    broken = parse_repo_config("labels: [unclosed\n")
    assert broken.config == RepoConfig()
    assert broken.problems == [
        ".github/triad.yml is not valid YAML (line 2); all defaults are used"
    ]
    listed = parse_repo_config("- a\n- b\n")
    assert listed.problems == [".github/triad.yml must be a mapping of sections"]


def test_keys_yaml_reads_as_booleans_or_numbers_never_hang_the_parser() -> None:
    for text in ("on: push\n", "1: x\n", "yes: 2\nlimits:\n  on: 3\n"):
        loaded = parse_repo_config(text)
        assert loaded.config == RepoConfig() and loaded.problems


def _billion_laughs(levels: int) -> str:
    """A few hundred bytes of YAML whose aliases stand for 10**levels strings."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]")
    return "labels:\n  bomb:\n" + "\n".join(f"    {line}" for line in lines) + "\n"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # PyYAML's constructors raise more than YAMLError
        ("since: 2001-13-45\n", "is not valid YAML: month must be in 1..12"),
        ("limits: {ci_fix_attempts: !!int x}\n", "is not valid YAML: invalid literal for int()"),
        ("a: !!timestamp x\n", "is not valid YAML:"),
        ("labels: " + "[" * 5000 + "]" * 5000 + "\n", "is not valid YAML: it nests too deeply"),
        ("labels: " + "[" * 30 + "]" * 30 + "\n", "nests deeper than 20 levels"),
        ("labels: &a [*a]\n", "nests deeper than 20 levels"),  # a cycle
        (_billion_laughs(9), "holds over 10,000 values, its aliases expanded"),
        ("# " + "x" * 70_000 + "\n", "is 70,003 characters long (at most 65,536 are read)"),
    ],
)
def test_a_hostile_or_broken_file_is_reported_never_raised(text: str, why: str) -> None:
    """The door reads the file for every delivery of the repository: one that raised failed
    them all (500, not stored), and one whose aliases expand held the store's thread."""
    loaded = parse_repo_config(text)
    assert loaded.config == RepoConfig()
    assert len(loaded.problems) == 1 and why in loaded.problems[0], loaded.problems
    assert loaded.problems[0].endswith("; all defaults are used")
    assert len(loaded.problems[0]) < 200


def test_a_bad_value_is_quoted_short() -> None:
    loaded = parse_repo_config("gates: {review: [" + ", ".join(["x" * 50] * 100) + "]}\n")
    assert len(loaded.problems) == 1 and loaded.problems[0].startswith("`gates.review`")
    assert len(loaded.problems[0]) < 200 and loaded.problems[0].endswith("…)")


#: build and tooling files CI or a developer's tools execute, as repositories name them
TOOLING = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements/test.txt",
    "constraints.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "setup.cfg",
    "sitecustomize.py",
    "build.gradle",
    "app/build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.properties",
    "gradlew",
    "gradlew.bat",
    "gradle/wrapper/gradle-wrapper.properties",
    "buildSrc/src/main/kotlin/conventions.gradle.kts",
    "pom.xml",
    "mvnw",
    ".mvn/wrapper/maven-wrapper.properties",
    "Cargo.toml",
    "Cargo.lock",
    "crates/core/build.rs",
    ".cargo/config.toml",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Gemfile.lock",
    "Rakefile",
    "triad.gemspec",
    "composer.json",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".yarn/releases/yarn-4.1.0.cjs",
    ".pnpmfile.cjs",
    "package-lock.json",
    "web/yarn.lock",
    "pnpm-lock.yaml",
    "jest.config.js",
    "vite.config.ts",
    "Makefile",
    "GNUmakefile",
    "makefile",
    "rules.mk",
    "CMakeLists.txt",
    "cmake/deps.cmake",
    "meson.build",
    "BUILD.bazel",
    "justfile",
    ".pre-commit-config.yaml",
    "pytest.ini",
    "tox.ini",
    "noxfile.py",
    ".envrc",
    "Dockerfile",
    "Dockerfile.dev",
    "docker/api.Dockerfile",
    "Containerfile",
    "docker-compose.yml",
    "docker-compose.override.yaml",
    "compose.yaml",
    "scripts/release.sh",
    "scripts/env.bash",
    "tools/setup.ps1",
    "run.bat",
    ".devcontainer/devcontainer.json",
    ".devcontainer.json",
    ".vscode/tasks.json",
    ".husky/pre-commit",
    ".gitmodules",
    "Directory.Build.props",
    "src/App/App.csproj",
    "netlify.toml",
    ".travis.yml",
    "azure-pipelines.yml",
    "WORKSPACE",
    "tools/Makefile",
    "services/api/requirements/base.txt",
    "web/.husky/pre-push",
    # scripts without an extension, and what workflows and tools call by name
    "script/bootstrap",
    "script/test",
    "bin/setup",
    "configure",
    "docs/conf.py",
    "tasks.py",
    "gulpfile.js",
    "Gruntfile.js",
    "karma.conf.js",
    ".storybook/main.js",
    "mix.exs",
    "Package.swift",
    "build.sbt",
    "project/plugins.sbt",
    "build.xml",
    "SConstruct",
    "Makefile.PL",
    "cpanfile",
    "flake.nix",
    "BUILD",
    "src/lib/BUILD.bazel",
    ".gitlab/ci/test.yml",
    ".readthedocs.yaml",
    "mise.toml",
    "lefthook.yml",
    "Vagrantfile",
    "hatch_build.py",
    "environment.yml",
    ".gitpod.yml",
    "Procfile",
    "app.json",
    "global.json",
)

#: ordinary source, tests and docs: not sensitive by default
PLAIN = (
    "README.md",
    "src/app.py",
    "tests/test_core.py",
    "docs/build.md",
    "src/build/output.py",
    "src/dockerfile_parser.py",
    "src/compose.py",
    "src/gradle_helper.py",
    "lib/requirements.py",
    "src/main.rs",
    "main.go",
    "web/src/App.tsx",
    # a folder named like a build file, or a root build folder's name deeper down
    "src/workspace/model.py",
    "lib/makefile/x.c",
    "src/gradle/Foo.java",
    "src/requirements/parser.py",
    "src/buildsrc/util.py",
    "locales/global.json",
    "src/bin/main.rs",
    "docs/script/intro.md",
    "src/build/rules.py",
)


def test_default_sensitive_paths_cover_what_builds_and_tools_run() -> None:
    sensitive = tuple(RepoConfig().sensitive_paths)
    assert [path for path in TOOLING if not is_sensitive(path, sensitive)] == []
    assert [path for path in PLAIN if is_sensitive(path, sensitive)] == []


def test_a_bare_name_is_a_file_anywhere_and_a_folder_rule_is_at_the_root() -> None:
    assert not is_sensitive("src/workspace/model.py", DEFAULT_SENSITIVE_PATHS)
    assert is_sensitive("WORKSPACE", DEFAULT_SENSITIVE_PATHS)
    assert is_sensitive("tools/Makefile", DEFAULT_SENSITIVE_PATHS)
    rules = ("secrets", "deploy/", "/only-root.txt", "**/cache/", "docs/*.py")
    assert is_sensitive("secrets", rules) and is_sensitive("app/secrets", rules)
    assert not is_sensitive("secrets/key.pem", rules)
    assert is_sensitive("deploy/prod.env", rules) and not is_sensitive("app/deploy/x", rules)
    assert is_sensitive("only-root.txt", rules) and not is_sensitive("a/only-root.txt", rules)
    assert is_sensitive("cache/x", rules) and is_sensitive("a/b/cache/x", rules)
    assert is_sensitive("docs/conf.py", rules) and not is_sensitive("src/docs/conf.py", rules)
    # what the developer may never touch stays matched broadly: a bare name is a file or a
    # folder at any depth (too much protected costs a plan, too little a leak)
    assert is_protected("app/secrets/key.pem", rules) and is_protected("app/deploy/x", rules)
    assert not is_protected("a/only-root.txt", rules)


@pytest.mark.parametrize("text", ["sensitive_paths: [deploy/]\n", "sensitive_paths: []\n"])
def test_a_repositorys_sensitive_paths_add_to_the_defaults(text: str) -> None:
    """An untrusted config never drops a default silently: its list adds to them."""
    loaded = parse_repo_config(text)
    assert loaded.problems == []
    sensitive = tuple(loaded.config.sensitive_paths)
    assert is_sensitive("Makefile", sensitive) and is_sensitive("conftest.py", sensitive)
    assert is_sensitive("deploy/run.py", sensitive) == ("deploy" in text)
