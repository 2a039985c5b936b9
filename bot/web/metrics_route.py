"""`/metrics` on the admin/metrics port: Prometheus text, behind the admin token when set."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from bot.web.admin_auth import require_admin
from bot.web.context import Context

router = APIRouter()


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(require_admin)])
async def metrics(context: Context) -> Response:
    return Response(await context.metrics.render(context.store), media_type=CONTENT_TYPE_LATEST)
