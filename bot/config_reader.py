"""The repository's `.github/triad.yml`, read from GitHub by the default branch's commit and
kept in the store (`bot.store.repo_configs`), so jobs do not read it on every job: read again
when a push changes it (`bot.routing.push`) or when the cached read is older than its max age.
When the file changed, deliveries dropped at the door on the older config are read again
(`bot.routing.redoor`)."""

from __future__ import annotations

from bot.errors import GitHubConflict, GitHubNotFound
from bot.github.repo import Repo
from bot.repo_config import CONFIG_PATH
from bot.routing.redoor import readmit_dropped
from bot.store import Store
from bot.store.repo_configs import MAX_AGE, CachedConfig, ConfigCache


async def config_text(store: Store, repo: Repo) -> str | None:
    """The file's text (None: no such file), from the store when cached."""
    cached = await ConfigCache(store).get(repo.full_name)
    if cached is None:
        cached = await refresh(store, repo)
    return cached.text


async def refresh(store: Store, repo: Repo) -> CachedConfig:
    """Read the file at the default branch's head and keep it (unless a read that began later
    was kept meanwhile): two requests."""
    began = store.clock()
    try:
        commit = await repo.head_commit()
    except (GitHubNotFound, GitHubConflict):  # an empty repository (409) has no commit
        return CachedConfig(repo.full_name, "", None, began)
    cached = CachedConfig(repo.full_name, commit, await repo.read_file(CONFIG_PATH, commit), began)
    cache = ConfigCache(store)
    previous = await cache.stored(repo.full_name)
    if await cache.put(cached) and previous is not None and previous.text != cached.text:
        # drops decided on the previous config (at most MAX_AGE old) may be wrong now
        since = max(previous.read_at, began - MAX_AGE)
        await readmit_dropped(store, repo.full_name, since)
    return cached
