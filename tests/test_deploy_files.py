"""The deploy files agree with the code: the lock covers pyproject's dependencies, the image
owns its data directory, stop grace periods cover the drain, fly checks the worker group and
reaches the admin port over its IPv6-only private network."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement.specifier}: "
            "run `make lock`"
        )


def test_every_package_the_product_imports_is_in_the_lock() -> None:
    """The image installs the lock alone: a module `bot` imports (even lazily, inside a
    function) that only a dev extra brings would fail in production, not in tests. (The lab,
    `triad_lab`, is this repository's own and ships with the image when asked for.)"""
    distributions = packages_distributions()
    pins = _pins()
    missing = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in ("bot", "triad_lab") or top in sys.stdlib_module_names:
                    continue
                # a module of uvicorn[standard] (uvloop) is brought by the lock too
                if not any(canonicalize_name(d) in pins for d in distributions.get(top, [])):
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, f"imported by bot but not in requirements.lock: {sorted(missing)}"


def test_the_dockerfile_installs_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-r requirements.lock" in dockerfile


def test_the_image_creates_its_data_directory_owned_by_its_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "sqlite:////home/triad/data/triad.db" in dockerfile
    assert "mkdir -p /home/triad/data && chown triad:triad /home/triad/data" in dockerfile
    assert dockerfile.index("chown triad:triad") < dockerfile.index("USER triad")


def test_stop_grace_periods_cover_the_drain() -> None:
    drain = Settings.model_fields["drain_seconds"].default
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    assert float(fly["kill_timeout"].removesuffix("s")) >= drain
    documented = re.search(r"--stop-timeout (\d+)", (ROOT / "Dockerfile").read_text())
    assert documented is not None and int(documented.group(1)) >= drain
    assert f"--stop-timeout {documented.group(1)}" in (ROOT / "README.md").read_text()


def test_fly_checks_the_worker_group_on_its_metrics_port() -> None:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    worker = fly["processes"]["worker"]
    found = re.search(r"--metrics-port (\d+)", worker)
    assert found is not None
    port = int(found.group(1))
    checks = [c for c in fly["checks"].values() if c.get("processes") == ["worker"]]
    assert [(c["port"], c["path"]) for c in checks] == [(port, "/healthz")]


def test_fly_admin_port_listens_on_ipv6() -> None:
    """`fly proxy` and `*.internal` reach a machine over IPv6 only: "::" (dual-stack, so the
    IPv4 health check still answers), never "0.0.0.0"."""
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    assert fly["env"]["TRIAD_ADMIN_HOST"] == "::"


def test_the_image_checks_serves_port_and_the_readme_gives_the_worker_its_own_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    check = re.search(r"HEALTHCHECK .*?127\.0\.0\.1:(\d+)/healthz", dockerfile, re.DOTALL)
    served = re.search(r'CMD \["triad", "serve", .*"--port", "(\d+)"\]', dockerfile)
    assert check is not None and served is not None and check[1] == served[1]
    readme = " ".join((ROOT / "README.md").read_text().split())
    admin_port = re.search(r"TRIAD_ADMIN_PORT=(\d+)", dockerfile)
    assert admin_port is not None
    assert f"127.0.0.1:{admin_port[1]}/healthz" in readme
    assert f"triad worker --metrics-port {admin_port[1]}" in readme
