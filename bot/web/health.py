"""Liveness and readiness: `/healthz` on the webhook port and on the admin/metrics port."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bot.web.context import Context

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz", summary="The process is up and the store answers")
async def healthz(context: Context) -> JSONResponse:
    try:
        await context.store.ping()
    except Exception as exc:
        log.error("health check: store unreachable", extra={"error": str(exc)})
        return JSONResponse({"status": "unhealthy", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "store": "ok"})
