"""The parts a stage handler uses: the store, GitHub, the models, and who Triad is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import config_reader
from bot.github.client import GitHubApp
from bot.github.repo import Repo
from bot.repo_config import BudgetCap, LoadedConfig, cached_parse, capped
from bot.store import Store

if TYPE_CHECKING:
    from bot.llm.models import Models


@dataclass
class Services:
    store: Store
    github: GitHubApp
    #: the model layer the roles ask (they see it as bot.roles.models.RoleModels)
    models: Models
    #: Triad's bot user, e.g. "triad[bot]"; asked of GitHub on first use when not configured
    bot_login: str = ""
    #: the largest budget a repository may give one workflow (None: as the repository says)
    budget_cap: BudgetCap | None = None

    async def repo(self, installation_id: int, full_name: str) -> Repo:
        """The repository as the installation sees it; Triad's own comments are the ones its
        bot user wrote (a marker in anyone else's comment means nothing)."""
        return self.github.repo(installation_id, full_name, me=await self.own_login())

    async def repo_config(self, repo: Repo) -> LoadedConfig:
        """The repository's `.github/triad.yml` on its default branch (cached in the store by
        commit), with any problems; a budget over the operator's cap is lowered to it."""
        text = await config_reader.config_text(self.store, repo)
        return capped(cached_parse(text), self.budget_cap)

    async def refresh_config(self, repo: Repo) -> str:
        """Read the config again at the default branch's head; the commit it was read at."""
        return (await config_reader.refresh(self.store, repo)).commit

    async def own_login(self) -> str:
        """Triad's own bot login: its own events must never trigger anything."""
        if not self.bot_login:
            self.bot_login = await self.github.own_login()
        return self.bot_login
