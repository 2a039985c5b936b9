"""The door's second look: a delivery that passed the payload-only checks and whose route
`asks`, judged again with what the store knows of its repository (no GitHub request)."""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import cached_parse
from bot.routing.router import Admitted, DoorFacts, Ignored, Router
from bot.store.repo_configs import StoreFacts


def store_question(admitted: Admitted) -> tuple[str, int | None] | None:
    """(repository, workflow number) to read the store about, when the route asks."""
    wants, number = admitted.asks
    repository = admitted.parsed.repository
    if not wants or repository is None:
        return None
    return repository.full_name, number


def recheck_with_store(
    admitted: Admitted, facts: DoorFacts, known: StoreFacts
) -> Admitted | Ignored:
    """`admitted`, or why the store shows it cannot concern Triad. While a delivery of the
    repository waits for its job (it may create the workflow or change the config), the
    store's word may be about to change: admitted."""
    if known.pending:
        return admitted
    config = cached_parse(known.config.text).config if known.config is not None else None
    return Router.recheck(admitted, replace(facts, config=config, workflow=known.workflow))
