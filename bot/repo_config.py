"""Per-repository configuration: `.github/triad.yml` on the default branch.

A bad file never stops Triad: each section that fails to validate falls back to its defaults,
and the problems are returned so the workflow can say so in a comment.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.text import one_line

CONFIG_PATH = ".github/triad.yml"

#: what CI, a package manager or a developer's tools execute or fetch and run: test
#: configuration, build files, lock files, package-manager settings, scripts, containers,
#: editor tasks and other CI services. A bare name (`Makefile`, `*.sh`) is a file of that name
#: at any depth; a rule with a slash is anchored at the root (`gradle/`, `docs/conf.py`);
#: `**/` lets a folder sit at any depth (see bot.roles.paths.matches).
DEFAULT_SENSITIVE_PATHS = (
    # Python
    "conftest.py",
    "pytest.ini",
    "tox.ini",
    "noxfile.py",
    "/tasks.py",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "hatch_build.py",
    "requirements*.txt",
    "requirements*.in",
    "requirements/",
    "**/requirements/*.txt",
    "**/requirements/*.in",
    "constraints*.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "environment.yml",
    "environment.yaml",
    "sitecustomize.py",
    "usercustomize.py",
    "*.pth",
    "mypy.ini",
    ".coveragerc",
    ".flake8",
    ".pylintrc",
    "pylintrc",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "docs/conf.py",
    "docs/source/conf.py",
    "doc/conf.py",
    "doc/source/conf.py",
    ".readthedocs.yaml",
    ".readthedocs.yml",
    # JavaScript and TypeScript
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "bun.lockb",
    "bun.lock",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    "**/.yarn/",
    ".pnpmfile.cjs",
    "*.config.js",
    "*.config.cjs",
    "*.config.mjs",
    "*.config.ts",
    "*.config.mts",
    "*.config.cts",
    "*.conf.js",
    ".eslintrc.js",
    ".eslintrc.cjs",
    "gulpfile.*",
    "Gruntfile.*",
    "**/.husky/",
    "**/.storybook/",
    # JVM
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.properties",
    "gradlew",
    "gradlew.bat",
    "gradle/",
    "buildSrc/",
    "pom.xml",
    "mvnw",
    "mvnw.cmd",
    "**/.mvn/",
    "build.xml",
    "build.sbt",
    "project/*.sbt",
    "project/*.scala",
    "project/build.properties",
    # Rust, Go, Ruby, PHP, .NET, Elixir, Swift, Perl, Nix
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "**/.cargo/",
    "rust-toolchain",
    "rust-toolchain.toml",
    "go.mod",
    "go.sum",
    "go.work",
    "Gemfile",
    "Gemfile.lock",
    "Rakefile",
    "*.rake",
    "*.gemspec",
    "**/.bundle/",
    "composer.json",
    "composer.lock",
    "*.csproj",
    "*.fsproj",
    "*.vbproj",
    "*.sln",
    # MSBuild imports these by name from any project file: kept though other tools use the
    # extensions (a React `Button.props` needs its plan to name it)
    "*.props",
    "*.targets",
    "NuGet.config",
    "/global.json",
    "mix.exs",
    "mix.lock",
    "Package.swift",
    "Package.resolved",
    "Makefile.PL",
    "Build.PL",
    "cpanfile",
    "flake.nix",
    "flake.lock",
    "default.nix",
    "shell.nix",
    # make and other build systems
    "Makefile",
    "GNUmakefile",
    "*.mk",
    "CMakeLists.txt",
    "*.cmake",
    "meson.build",
    "configure",
    "configure.ac",
    "SConstruct",
    "SConscript",
    "BUILD",
    "BUILD.bazel",
    "WORKSPACE",
    "WORKSPACE.bazel",
    "MODULE.bazel",
    "*.bzl",
    ".bazelrc",
    ".bazelversion",
    "justfile",
    "Taskfile.yml",
    "Taskfile.yaml",
    "Earthfile",
    "mise.toml",
    ".mise.toml",
    ".tool-versions",
    "lefthook.yml",
    "lefthook.yaml",
    ".lefthook.yml",
    # scripts and environments (`script/`, `bin/`: scripts without an extension that
    # workflows call)
    "script/",
    "scripts/",
    "bin/",
    "*.sh",
    "*.bash",
    "*.zsh",
    "*.ps1",
    "*.psm1",
    "*.bat",
    "*.cmd",
    ".envrc",
    "Dockerfile",
    "Dockerfile.*",
    "*.dockerfile",
    "Containerfile",
    "docker-compose*.yml",
    "docker-compose*.yaml",
    "compose.yml",
    "compose.yaml",
    "**/.devcontainer/",
    ".devcontainer.json",
    "**/.vscode/",
    "Vagrantfile",
    ".gitpod.yml",
    ".gitpod.Dockerfile",
    ".gitmodules",
    # other CI and deploy services
    ".gitlab-ci.yml",
    ".gitlab/",
    ".circleci/",
    "Jenkinsfile",
    ".travis.yml",
    "azure-pipelines.yml",
    ".azure-pipelines/",
    ".buildkite/",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    "appveyor.yml",
    ".woodpecker.yml",
    ".woodpecker/",
    "cloudbuild.yaml",
    "netlify.toml",
    "vercel.json",
    "Procfile",
    "/app.json",
    "fly.toml",
    "render.yaml",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(_Section):
    """Names of the labels Triad reads and writes; each can be renamed per repository."""

    design: str = "triad:design"
    design_proposed: str = "triad:design-proposed"
    approved: str = "triad:approved"
    review: str = "triad:review"
    ready_for_qa: str = "triad:ready-for-qa"
    qa_passed: str = "triad:qa-passed"
    qa_failed: str = "triad:qa-failed"
    needs_human: str = "needs-human"


class Gates(_Section):
    """Which transitions wait for a human beyond the design approval."""

    #: "ci": review starts when CI is green; "label": a writer adds the review label
    review: Literal["ci", "label"] = "ci"
    #: open the PR as a draft (marked ready at QA passed)
    draft_pr: bool = True
    #: merge the PR when a writer passes QA (off: merging stays a human act)
    auto_merge: bool = False


class Limits(_Section):
    ci_fix_attempts: int = Field(default=2, ge=0, le=10)
    review_fix_rounds: int = Field(default=2, ge=0, le=10)
    design_revisions: int = Field(default=10, ge=1, le=50)
    #: how long the PR head may wait for CI to report before a human is asked
    ci_timeout_minutes: int = Field(default=60, ge=1, le=1440)
    #: review rounds on one person's pull request (each request, re-run or push re-review)
    reviews_per_pr: int = Field(default=10, ge=1, le=100)
    #: developer rounds people may ask for with `/triad fix` and `/triad resume` per approval
    human_rounds: int = Field(default=5, ge=0, le=50)


class Budget(_Section):
    """Per workflow; a model call that would exceed it is not made."""

    tokens: int = Field(default=2_000_000, ge=1_000)
    dollars: float = Field(default=20.0, gt=0)
    context_tokens: int = Field(default=60_000, ge=1_000, le=1_000_000)


class PathInstruction(_Section):
    """What reviewers must look for in the files a glob matches (CodeRabbit's shape)."""

    path: str = Field(min_length=1)
    instructions: str = Field(min_length=1)


class Review(_Section):
    """Reviewing pull requests, Triad's own and people's."""

    #: review every non-draft pull request when opened or marked ready (never a fork's)
    auto: bool = False
    #: review a reviewed person's pull request again on each push (else only on request)
    on_push: bool = False
    #: what the repository asks every review to check, in the reviewers' instructions
    instructions: str = ""
    #: glob → instructions for the changed files it matches
    path_instructions: list[PathInstruction] = Field(default_factory=list)
    #: Triad's check run when both reviewers ask a person's PR for changes
    check_on_changes: Literal["failure", "neutral"] = "failure"


class RepoConfig(_Section):
    labels: Labels = Labels()
    gates: Gates = Gates()
    limits: Limits = Limits()
    review: Review = Review()
    budget: Budget = Budget()
    #: model per role ("architect", "developer", "reviewer_a", "reviewer_b"), read by bot.llm
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: paths (folders or globs) the developer must never touch, besides .github/workflows/
    #: which is always protected
    protected_paths: list[str] = Field(default_factory=lambda: [".github/workflows/"])
    #: paths CI or tooling executes (besides all of .github/, always sensitive): the developer
    #: changes them only when the approved plan names them, and the design comment shows them
    #: under a warning. The repository's list adds to DEFAULT_SENSITIVE_PATHS, never replaces
    #: it (see `_with_defaults`).
    sensitive_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVE_PATHS))
    #: other bots whose events may trigger Triad (its own never do)
    allowed_bots: list[str] = Field(default_factory=list)

    @field_validator("sensitive_paths")
    @classmethod
    def _with_defaults(cls, paths: list[str]) -> list[str]:
        """The defaults and the repository's own rules. The file is on a branch anyone with
        write access may change, and a default dropped there would silently let CI-run files
        through: a rule is never removed by the config."""
        return list(dict.fromkeys((*DEFAULT_SENSITIVE_PATHS, *paths)))


@dataclass(frozen=True)
class LoadedConfig:
    config: RepoConfig
    problems: list[str] = field(default_factory=list)


def parse_repo_config(text: str | None) -> LoadedConfig:
    """Read `.github/triad.yml`; a missing file means defaults, a bad part means its defaults.
    Never raises: the door reads the file for every delivery it decides on it."""
    if text is None or not text.strip():
        return LoadedConfig(RepoConfig())
    if len(text) > MAX_CONFIG_CHARS:
        return _unread(f"is {len(text):,} characters long (at most {MAX_CONFIG_CHARS:,} are read)")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return _unread("is not valid YAML" + (f" (line {mark.line + 1})" if mark else ""))
    except RecursionError:
        return _unread("is not valid YAML: it nests too deeply")
    except Exception as exc:  # PyYAML's constructors raise others (`2001-13-45`, `!!int x`)
        return _unread(f"is not valid YAML: {one_line(str(exc), 80)}")
    if raw is None:
        return LoadedConfig(RepoConfig())
    if not isinstance(raw, dict):
        return LoadedConfig(RepoConfig(), [f"{CONFIG_PATH} must be a mapping of sections"])
    if (oversized := _oversized(raw)) is not None:
        return _unread(oversized)

    problems: list[str] = []
    data = copy.deepcopy(raw)
    for _ in range(50):
        try:
            return LoadedConfig(RepoConfig.model_validate(data), problems)
        except ValidationError as exc:
            problems.extend(_describe(exc))
            before = repr(data)
            for error in exc.errors():
                _drop(data, error["loc"])
            if repr(data) == before:
                break  # nothing more can be dropped: give up on the whole file
    problems.append(f"{CONFIG_PATH} could not be read; all defaults are used")
    return LoadedConfig(RepoConfig(), problems)


#: a longer `.github/triad.yml` is not read (every default is used, and the workflow says why)
MAX_CONFIG_CHARS = 64 * 1024
#: values a config may hold with its aliases expanded (a few hundred bytes of YAML aliases can
#: stand for billions), and how deeply they may nest
MAX_CONFIG_VALUES = 10_000
MAX_CONFIG_DEPTH = 20


def _unread(why: str) -> LoadedConfig:
    return LoadedConfig(RepoConfig(), [f"{CONFIG_PATH} {why}; all defaults are used"])


def _oversized(raw: Any) -> str | None:
    """Why `raw` is too large to validate, or None: its values counted as validating them would
    visit them, each alias as often as it is used (a cycle until it nests too deeply)."""
    counted = 0
    waiting: list[tuple[Any, int]] = [(raw, 1)]
    while waiting:
        value, depth = waiting.pop()
        counted += 1
        if counted > MAX_CONFIG_VALUES:
            return f"holds over {MAX_CONFIG_VALUES:,} values, its aliases expanded"
        if depth > MAX_CONFIG_DEPTH:
            return f"nests deeper than {MAX_CONFIG_DEPTH} levels"
        if isinstance(value, dict):
            waiting.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            waiting.extend((item, depth + 1) for item in value)
    return None


@lru_cache(maxsize=256)
def cached_parse(text: str | None) -> LoadedConfig:
    """`parse_repo_config`, remembered by the file's text: the door and every job read the
    same cached file, and parsing YAML and validating it each time is most of their cost."""
    return parse_repo_config(text)


@dataclass(frozen=True)
class BudgetCap:
    """The largest budget the operator lets a repository give one workflow."""

    tokens: int
    dollars: float


def capped(loaded: LoadedConfig, cap: BudgetCap | None) -> LoadedConfig:
    """`loaded` with a budget over the operator's cap lowered to it, saying so (the problems
    are told on the issue, naming the cap)."""
    if cap is None:
        return loaded
    budget, problems = loaded.config.budget, list(loaded.problems)
    tokens, dollars = min(budget.tokens, cap.tokens), min(budget.dollars, cap.dollars)
    if budget.tokens > cap.tokens:
        problems.append(
            f"`budget.tokens` {budget.tokens:,} is over this Triad's cap for one workflow "
            f"({cap.tokens:,} tokens, set by the operator in TRIAD_MAX_WORKFLOW_TOKENS): "
            f"{cap.tokens:,} is used"
        )
    if budget.dollars > cap.dollars:
        problems.append(
            f"`budget.dollars` {budget.dollars:,g} is over this Triad's cap for one workflow "
            f"(${cap.dollars:,g}, set by the operator in TRIAD_MAX_WORKFLOW_DOLLARS): "
            f"${cap.dollars:,g} is used"
        )
    if (tokens, dollars) == (budget.tokens, budget.dollars):
        return loaded
    lowered = budget.model_copy(update={"tokens": tokens, "dollars": dollars})
    return LoadedConfig(loaded.config.model_copy(update={"budget": lowered}), problems)


def _drop(data: dict[Any, Any], loc: tuple[int | str, ...]) -> None:
    """Remove the offending key (at most two levels deep) so its default is used instead."""
    if not loc:
        return
    # YAML reads `on:` or `yes:` as True and `1:` as 1: find the key as it is in the data
    key = next((k for k in data if str(k) == str(loc[0]) or k == loc[0]), loc[0])
    section = data.get(key)
    if len(loc) >= 2 and isinstance(section, dict):
        inner = next((k for k in section if str(k) == str(loc[1])), None)
        if inner is not None:
            del section[inner]
            return
    data.pop(key, None)


def _describe(exc: ValidationError) -> list[str]:
    described = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            described.append(f"unknown key `{where}`")
        elif error["type"] == "missing":
            continue
        else:
            got = one_line(repr(error.get("input")), 80)
            described.append(f"`{where}`: {error['msg']} (got {got})")
    return described
