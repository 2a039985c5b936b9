"""The door's second look: what the store knows of the repository, in one indexed read, for a
delivery that passed the payload-only checks and whose route `asks` (no GitHub request)."""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import cached_parse
from bot.routing.router import Admitted, DoorFacts, Ignored, Router
from bot.store.base import Transaction
from bot.store.repo_configs import door_facts


def recheck_with_store(
    admitted: Admitted, facts: DoorFacts, tx: Transaction, now: float
) -> Admitted | Ignored:
    """`admitted`, or why the store shows it cannot concern Triad, read in `tx` (the admitting
    transaction). While a delivery of the repository waits for its job (it may create the
    workflow or change the config), the store's word may be about to change: admitted."""
    wants, number = admitted.asks
    repository = admitted.parsed.repository
    if not wants or repository is None:
        return admitted
    known = door_facts(tx, repository.full_name, number, now)
    if known.pending:
        return admitted
    config = cached_parse(known.config.text).config if known.config is not None else None
    return Router.recheck(admitted, replace(facts, config=config, workflow=known.workflow))
