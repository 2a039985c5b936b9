"""The ingest benchmark's baseline: a FastAPI endpoint that reads the body, checks its
HMAC-SHA256 signature, and answers 202 (401 when it does not match) with nothing stored.

    uvicorn bench.bare_app:app --port 3001   (TRIAD_WEBHOOK_SECRET is the secret)
"""

import hashlib
import hmac
import os

from fastapi import FastAPI, Request, Response

SECRET = os.environ.get("TRIAD_WEBHOOK_SECRET", "bench-secret-of-32-characters-ok").encode()
app = FastAPI()


@app.post("/api/github/webhooks")
async def receive(request: Request) -> Response:
    body = await request.body()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    given = request.headers.get("x-hub-signature-256", "")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return Response(status_code=401)
    return Response(status_code=202)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(status_code=200)
