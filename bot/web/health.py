"""Liveness and readiness (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

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


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(context: Context) -> Response:
    return Response(await context.metrics.render(context.store), media_type=CONTENT_TYPE_LATEST)
