"""Baseline for bench/webhook_ingest.py: a FastAPI endpoint that answers 202, doing nothing."""

from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/api/github/webhooks")
async def receive() -> Response:
    return Response(status_code=202)
