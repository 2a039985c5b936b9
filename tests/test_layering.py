"""The product's layers: `bot` never imports the lab, the model layer imports nothing above it,
only `bot.github` imports githubkit, and `triad --help` imports nothing heavy."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def test_bot_never_imports_the_lab_except_the_clis_command_list() -> None:
    offenders = {}
    for path in BOT.rglob("*.py"):
        lab = {m for m in _imported_modules(path) if m.split(".")[0] == "triad_lab"}
        if path == BOT / "cli.py":
            # the CLI offers the lab's commands when the lab is installed, imported lazily
            lab -= {"triad_lab", "triad_lab.commands", "triad_lab.simulator"}
        if lab:
            offenders[str(path.relative_to(BOT.parent))] = sorted(lab)
    assert offenders == {}


def test_the_model_layer_imports_nothing_above_it() -> None:
    """`bot/llm` serves the roles and stages; it must not know them, nor GitHub."""
    above = ("bot.roles", "bot.stages", "bot.workflow", "bot.github")
    offenders = {}
    for path in (BOT / "llm").rglob("*.py"):
        found = {name for name in _imported_names(path) if _is_within(name, above)}
        if found:
            offenders[str(path.relative_to(BOT.parent))] = sorted(found)
    assert offenders == {}
    loaded = _modules_after("import bot.llm")
    assert {m for m in loaded if _is_within(m, above)} == set()


@pytest.mark.parametrize(
    ("package", "above"),
    [
        # the engine is pure: no I/O layer, no handler
        ("workflow", ("bot.stages", "bot.github", "bot.llm", "bot.store", "bot.web")),
        # the routing table serves the web layer and the delivery job; it knows no stage
        ("routing", ("bot.stages", "bot.web")),
    ],
)
def test_the_core_imports_nothing_above_it(package: str, above: tuple[str, ...]) -> None:
    offenders = {}
    for path in (BOT / package).rglob("*.py"):
        found = {name for name in _imported_names(path) if _is_within(name, above)}
        if found:
            offenders[str(path.relative_to(BOT.parent))] = sorted(found)
    assert offenders == {}


def _imported_names(path: Path) -> set[str]:
    """Every module, or name in a module, that `path` imports: `from bot import roles` and
    `from ..roles import x` both name `bot.roles`."""
    package = list(path.relative_to(BOT.parent).with_suffix("").parts[:-1])
    found = _imported_modules(path)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = package[: len(package) - node.level + 1] if node.level else []
        module = ".".join([*base, *([node.module] if node.module else [])])
        found.add(module)
        found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _is_within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in packages)


def test_only_bot_github_imports_githubkit() -> None:
    """GitHub's client and its failures stay behind `bot.github`: the rest of Triad sees
    Triad's operations and errors (`bot.errors.GitHubError`)."""
    sdk = {"githubkit", "githubkit_schemas"}
    offenders = {}
    for path in BOT.rglob("*.py"):
        if path.is_relative_to(BOT / "github"):
            continue
        found = {m for m in _imported_modules(path) if m.split(".")[0] in sdk}
        if found:
            offenders[str(path.relative_to(BOT.parent))] = sorted(found)
    assert offenders == {}


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_help_imports_no_lab_code_and_no_model_sdk() -> None:
    loaded = _modules_after(
        "from bot.cli import _parser\n"
        "import contextlib, io\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    _parser().parse_args(['--help'])"
    )
    heavy = {"anthropic", "openai", "githubkit", "fastapi", "uvicorn", "triad_lab.simulator"}
    assert heavy & {m.split(".")[0] for m in loaded} | (heavy & loaded) == set()
    assert "triad_lab.commands" in loaded  # the lab's commands are listed all the same


def test_serving_imports_no_lab_code() -> None:
    loaded = _modules_after("import bot.runtime, bot.worker, bot.web.app")
    assert {m for m in loaded if m.startswith("triad_lab")} == set()


def test_a_worker_starts_with_no_model_sdk_and_no_web_framework() -> None:
    """`triad worker` loads what it runs: its handlers and services, but a provider's SDK only
    at its first call, and FastAPI only with a metrics port (issue 18: workers start fast)."""
    loaded = _modules_after(
        "from bot.runtime import build_pool\n"
        "from bot.metrics import Metrics\n"
        "from bot.settings import Settings\n"
        "from bot.store import open_store\n"
        "from cryptography.hazmat.primitives import serialization as s\n"
        "from cryptography.hazmat.primitives.asymmetric import rsa\n"
        "key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(\n"
        "    s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode()\n"
        "settings = Settings(app_id=1, private_key=key, webhook_secret='s' * 16)\n"
        "build_pool(settings, open_store('sqlite:///:memory:'), Metrics(), 2)"
    )
    heavy = {"anthropic", "openai", "fastapi", "uvicorn", "starlette", "triad_lab"}
    assert heavy & {m.split(".")[0] for m in loaded} == set()
    assert "bot.stages.developer" in loaded and "githubkit" in loaded


def test_warming_up_loads_what_the_first_github_requests_would_on_the_event_loop() -> None:
    """`serve` warms before its first request: githubkit's REST namespaces are imported (each
    on first use held the GIL for tens to hundreds of ms) and the CA bundle is loaded."""
    setup = (
        "from bot.github.client import GitHubApp\n"
        "from triad_lab.keys import throwaway_pem\n"
        "app = GitHubApp(1, throwaway_pem())\n"
    )
    cold = _modules_after(setup)
    warm = _modules_after(setup + "app.warm()\nassert app.transport._tls is not None")
    namespaces = {m.rsplit(".", 1)[-1] for m in warm - cold if ".rest." in m}
    assert {"actions", "apps", "checks", "git", "issues", "pulls", "repos"} <= namespaces


def test_a_web_only_server_loads_no_stage_and_no_model_layer() -> None:
    loaded = _modules_after("import bot.runtime, bot.web.server")
    assert {m for m in loaded if m.startswith(("bot.llm", "bot.stages."))} == {
        "bot.stages.services"
    }
    assert {"anthropic", "openai"} & {m.split(".")[0] for m in loaded} == set()
