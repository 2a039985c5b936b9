"""The runner over a real store and the GitHub simulator (the App's real clients)."""

from tests.github.conftest import make_sim, repo, sim

__all__ = ["make_sim", "repo", "sim"]
