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
    #: the model layer, as the roles see it (bot.roles.models.RoleModels)
    models: Any = None
    #: Triad's bot user, e.g. "triad[bot]"; asked of GitHub on first use when not configured
    bot_login: str = ""

    async def repo(self, installation_id: int, full_name: str) -> Repo:
        """The repository as the installation sees it; Triad's own comments are the ones its
        bot user wrote (a marker in anyone else's comment means nothing)."""
        return self.github.repo(installation_id, full_name, me=await self.own_login())

    async def own_login(self) -> str:
        """Triad's own bot login: its own events must never trigger anything."""
        if not self.bot_login:
            self.bot_login = await self.github.own_login()
        return self.bot_login
