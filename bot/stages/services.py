"""The parts a stage handler uses: the store, GitHub, the models, and who Triad is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.github.client import GitHubApp
from bot.github.repo import Repo
from bot.store import Store


@dataclass
class Services:
    store: Store
    github: GitHubApp
    #: the model layer (bot.llm); None where no stage needs a model
    models: Any = None
    #: Triad's bot user, e.g. "triad[bot]": its own events never trigger anything
    bot_login: str = ""

    def repo(self, installation_id: int, full_name: str) -> Repo:
        return Repo(self.github.installation(installation_id), full_name)
