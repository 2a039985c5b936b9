"""Data kept on purpose: delivery bodies are pruned after TRIAD_DELIVERY_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
import logging

from bot.store import Store
from bot.store.deliveries import DeliveryLog

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


async def prune_periodically(
    store: Store, retention_days: float, every: float = PRUNE_EVERY_SECONDS
) -> None:
    """Prune delivery bodies older than `retention_days` now and every `every` seconds, until
    cancelled. A failure is logged and tried again next time; it never stops the process."""
    deliveries = DeliveryLog(store)
    while True:
        try:
            pruned = await deliveries.prune_bodies(retention_days)
        except Exception:
            log.exception("pruning delivery bodies failed; trying again later")
        else:
            if pruned:
                log.info(
                    "delivery bodies pruned",
                    extra={"deliveries": pruned, "older_than_days": retention_days},
                )
        await asyncio.sleep(every)
