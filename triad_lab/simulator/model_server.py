"""A fake model server that speaks Anthropic Messages and OpenAI Chat Completions over HTTP.

Tests and the demo point the real SDK clients at it: answers come from a script (queues of
replies or functions of the request), chosen by what a real request carries (the model, the
output schema's name, the API it came on), every request is recorded with its headers,
and faults (429 with retry-after, 500, 529, slow answers, truncated or non-JSON output, raw
bodies of any status and content type, bodies that trickle in byte by byte) are injected on
demand. Token counts are computed from the request and answer sizes, so usage and
cost are deterministic.

    with FakeModelServer() as server:
        server.script("claude-*", [rate_limited(retry_after=1), {"paths": [], "reason": "x"}])
        server.script("*", [{"verdict": "approve"}], api="openai", schema="ReviewAnswer")
        client = anthropic.AsyncAnthropic(base_url=server.anthropic_url, api_key="x")

Standalone, answering every request with `ScriptedModels`:
`python -m triad_lab.simulator.model_server --port 8700 [--latency 0.2]`, scripted over HTTP
by a harness in another process: `POST /_script/latency {"seconds": 0.5}` delays every answer,
`POST /_script/faults {"pattern": "claude-*", "status": 529, "times": 3}` answers the next
matching requests with an error (a provider's outage), `GET /_script/requests` counts them.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import itertools
import json
import logging
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

log = logging.getLogger(__name__)

Api = Literal["anthropic", "openai"]


@dataclass(frozen=True)
class ModelRequest:
    """One request as the server saw it."""

    api: Api
    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    #: the client's address and port: one per TCP connection it opened
    peer: str = ""

    @property
    def schema_name(self) -> str | None:
        """The output schema's name: the forced tool, or the json_schema response format."""
        if self.api == "anthropic":
            choice = self.body.get("tool_choice") or {}
            tools = self.body.get("tools") or [{}]
            named: str | None = choice.get("name") or tools[0].get("name")
            return named
        tool_choice = self.body.get("tool_choice")
        if isinstance(tool_choice, dict) and isinstance(tool_choice.get("function"), dict):
            forced: str | None = tool_choice["function"].get("name")
            return forced
        response_format = self.body.get("response_format") or {}
        return (response_format.get("json_schema") or {}).get("name")

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the answer must fit, when the request carries one."""
        name = self.schema_name
        for tool in self.body.get("tools") or []:
            if tool.get("name") == name:
                input_schema: dict[str, Any] | None = tool.get("input_schema")
                return input_schema
            function = tool.get("function") or {}
            if function.get("name") == name:
                parameters: dict[str, Any] | None = function.get("parameters")
                return parameters
        response_format = self.body.get("response_format") or {}
        return (response_format.get("json_schema") or {}).get("schema")

    @property
    def text(self) -> str:
        """Every piece of text in the prompt (system and messages), joined."""
        pieces: list[str] = []
        _texts(self.body.get("system"), pieces)
        _texts(self.body.get("messages"), pieces)
        return "\n".join(pieces)

    @property
    def raw(self) -> str:
        return json.dumps(self.body)


def _texts(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, list):
        for item in value:
            _texts(item, into)
    elif isinstance(value, dict):
        for key in ("text", "content", "input"):
            if key in value:
                _texts(value[key] if key != "input" else json.dumps(value[key]), into)


@dataclass(frozen=True)
class Reply:
    """An answer: a structured object, or raw text; optionally cut short or late."""

    data: dict[str, Any] | None = None
    text: str | None = None
    truncated: bool = False
    delay: float = 0.0


@dataclass(frozen=True)
class Fault:
    """An error answer in the provider's own format."""

    status: int
    error_type: str
    message: str
    retry_after: float | None = None
    delay: float = 0.0
    #: OpenAI's `error.code` (e.g. `insufficient_quota`); the status when None
    code: str | None = None
    #: more response headers, e.g. Anthropic's `x-should-retry`
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawBody:
    """Exactly this body, status and content type: for answers no real API should give."""

    status: int
    content_type: str
    text: str
    delay: float = 0.0


@dataclass(frozen=True)
class Trickle:
    """A normal answer whose body arrives `chunk` bytes every `interval` seconds.

    Each read is quick, so only a total deadline (not a per-read timeout) stops it.
    """

    item: Reply | RawBody
    interval: float
    chunk: int = 1

    @property
    def delay(self) -> float:
        return 0.0


ScriptItem = Reply | Fault | RawBody | Trickle | dict[str, Any]
Served = Reply | Fault | RawBody | Trickle
Responder = Callable[[ModelRequest], ScriptItem]


def answer(data: dict[str, Any]) -> Reply:
    return Reply(data=data)


def text(content: str) -> Reply:
    """A plain-text answer (not JSON, no tool call)."""
    return Reply(text=content)


def truncated(data: dict[str, Any]) -> Reply:
    """An answer cut off at the output token limit, its JSON incomplete."""
    return Reply(data=data, truncated=True)


def slow(seconds: float, then: ScriptItem | None = None) -> Served:
    """An answer that arrives after `seconds` (beyond a client's timeout, typically)."""
    item = _item(then) if then is not None else Reply(data={})
    if isinstance(item, Trickle):
        return item
    return replace(item, delay=seconds)


def raw(text: str, status: int = 200, content_type: str = "text/html") -> RawBody:
    """A body as it is: an HTML error page, broken JSON, `{}`, an error object with 200."""
    return RawBody(status, content_type, text)


def trickle(then: ScriptItem, interval: float = 0.05, chunk: int = 1) -> Trickle:
    """`then`, its body sent `chunk` bytes at a time every `interval` seconds."""
    item = _item(then)
    if not isinstance(item, Reply | RawBody):
        raise TypeError("only an answer or a raw body can trickle")
    return Trickle(item, interval, chunk)


def rate_limited(retry_after: float | None = 1.0) -> Fault:
    return Fault(429, "rate_limit_error", "Rate limit reached (fake)", retry_after)


def quota_exhausted() -> Fault:
    """OpenAI's 429 for an account out of credit: retrying cannot help."""
    return Fault(
        429,
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details. (fake)",
        code="insufficient_quota",
    )


def overloaded() -> Fault:
    return Fault(529, "overloaded_error", "Overloaded (fake)")


def server_error(status: int = 500, *, should_retry: bool | None = None) -> Fault:
    """A server error (any status); `should_retry` sets Anthropic's `x-should-retry` header."""
    headers = {} if should_retry is None else {"x-should-retry": str(should_retry).lower()}
    return Fault(status, "api_error", "Internal server error (fake)", headers=headers)


def _item(value: ScriptItem) -> Served:
    return value if isinstance(value, Reply | Fault | RawBody | Trickle) else Reply(data=value)


def _status(item: Served) -> int:
    if isinstance(item, Trickle):
        return _status(item.item)
    return item.status if isinstance(item, Fault | RawBody) else 200


@dataclass
class _Script:
    pattern: str
    api: str | None = None
    schema: str | None = None
    queue: deque[ScriptItem] = field(default_factory=deque)
    responder: Responder | None = None

    def matches(self, request: ModelRequest) -> bool:
        return (
            fnmatch.fnmatchcase(request.model, self.pattern)
            and self.api in (None, request.api)
            and self.schema in (None, request.schema_name)
        )


def tokens_for(value: Any) -> int:
    """A deterministic token count: about four characters of JSON per token."""
    size = len(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
    return max(1, (size + 3) // 4)


class FakeModelServer:
    """The fake server in a background thread on an ephemeral 127.0.0.1 port."""

    def __init__(self, default: Responder | None = None, host: str = "127.0.0.1") -> None:
        #: answers requests no script matches (e.g. `ScriptedModels`); None: a 400 error
        self.default = default
        self.requests: list[ModelRequest] = []
        self.statuses: list[int] = []
        self._host = host
        self._port = 0
        self._scripts: list[_Script] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        #: seconds added to every answer (the models' latency, scripted)
        self.latency = 0.0
        self.app = self._build_app()

    # -- scripting ---------------------------------------------------------------------------

    def script(
        self,
        pattern: str,
        responses: list[ScriptItem] | Responder,
        *,
        api: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Answer requests whose model matches `pattern` (fnmatch) from now on; with `api`
        ("anthropic" or "openai") or `schema` (the output schema's name, e.g. "ReviewAnswer"),
        only the requests that came on that API or ask for that schema.

        Two callers asking for the same schema (the two reviewers) differ by model or provider.
        A list is consumed in order (then the next matching script or the default answers);
        a function answers every matching request. Earlier scripts are consulted first.
        """
        script = _Script(pattern, api, schema)
        if callable(responses):
            script.responder = responses
        else:
            script.queue.extend(responses)
        with self._lock:
            self._scripts.append(script)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.statuses.clear()
            self._ids = itertools.count(1)

    def requests_for(self, pattern: str) -> list[ModelRequest]:
        return [r for r in self.requests if fnmatch.fnmatchcase(r.model, pattern)]

    def _next(self, request: ModelRequest) -> tuple[Served, int]:
        """The scripted answer for `request`, and its number; both recorded at once.

        The request and the status it will get are recorded together when it arrives (not
        after a scripted delay), so a `reset()` while it is in flight leaves no trace of it.
        """
        with self._lock:
            for script in self._scripts:
                if not script.matches(request):
                    continue
                if script.responder is not None:
                    responder: Responder | None = script.responder
                    break
                if script.queue:
                    queued = _item(script.queue.popleft())
                    return queued, self._record(request, queued)
            else:
                responder = self.default
        if responder is None:
            item: Served = Fault(
                400, "invalid_request_error", f"nothing scripted for {request.model}"
            )
        else:
            try:
                item = _item(responder(request))
            except Exception as exc:  # a broken script should fail its test, not hang the client
                log.exception("the scripted responder failed")
                item = Fault(500, "api_error", f"the scripted responder failed: {exc!r}")
        with self._lock:
            return item, self._record(request, item)

    def _record(self, request: ModelRequest, item: Served) -> int:
        """Under the lock: remember the request with its status; its number for the ids."""
        self.requests.append(request)
        self.statuses.append(_status(item))
        return next(self._ids)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def anthropic_url(self) -> str:
        """The base URL for `anthropic.AsyncAnthropic` (it adds `/v1/messages`)."""
        return self.url

    @property
    def openai_url(self) -> str:
        """The base URL for `openai.AsyncOpenAI` (it adds `/chat/completions`)."""
        return f"{self.url}/v1"

    def start(self, port: int = 0) -> FakeModelServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="model-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake model server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the two APIs ------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Triad fake model server")

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            return await self._serve("anthropic", request)

        @app.post("/v1/chat/completions")
        @app.post("/chat/completions")
        async def chat_completions(request: Request) -> Response:
            return await self._serve("openai", request)

        @app.post("/_script/latency")
        async def latency(body: dict[str, float]) -> dict[str, float]:
            self.latency = float(body.get("seconds", 0.0))
            return {"seconds": self.latency}

        @app.post("/_script/faults")
        async def faults(body: dict[str, Any]) -> dict[str, int]:
            fault = Fault(
                int(body.get("status", 529)),
                str(body.get("error_type", "overloaded_error")),
                str(body.get("message", "Overloaded (fake)")),
            )
            times = int(body.get("times", 1))
            self.script(
                str(body.get("pattern", "*")),
                [fault] * times,
                api=body.get("api"),
                schema=body.get("schema"),
            )
            return {"scripted": times}

        @app.get("/_script/requests")
        async def requests() -> dict[str, Any]:
            with self._lock:
                seen = [(r.model, r.schema_name) for r in self.requests]
                statuses = list(self.statuses)
            by_schema: dict[str, int] = {}
            for _, schema in seen:
                by_schema[schema or ""] = by_schema.get(schema or "", 0) + 1
            return {"count": len(seen), "by_schema": by_schema, "statuses": statuses}

        return app

    async def _serve(self, api: Api, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return _error(api, Fault(400, "invalid_request_error", "body must name a model"), "0")
        seen = ModelRequest(
            api=api,
            model=body["model"],
            body=body,
            headers=dict(request.headers),
            peer=f"{request.client.host}:{request.client.port}" if request.client else "",
        )
        # off the event loop: a responder may block (a barrier, a slow script) without
        # stalling the other requests in flight
        item, count = await asyncio.to_thread(self._next, seen)
        number = f"{count:06d}"
        if item.delay or self.latency:
            await asyncio.sleep(item.delay + self.latency)
        if isinstance(item, Trickle):
            return _trickled(_response(api, seen, item.item, number), item)
        return _response(api, seen, item, number)


def _response(
    api: Api, request: ModelRequest, item: Reply | Fault | RawBody, number: str
) -> Response:
    if isinstance(item, Fault):
        return _error(api, item, number)
    if isinstance(item, RawBody):
        return Response(
            item.text.encode(),
            status_code=item.status,
            media_type=item.content_type,
            headers={_request_id_header(api): f"req_fake_{number}"},
        )
    if api == "anthropic":
        return _anthropic_message(request, item, number)
    return _openai_completion(request, item, number)


def _trickled(response: Response, how: Trickle) -> StreamingResponse:
    """The same response, its body streamed slowly (no content-length: chunked)."""
    body = bytes(response.body)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), how.chunk):
            yield body[start : start + how.chunk]
            await asyncio.sleep(how.interval)

    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in ("content-length", "content-type")
    }
    return StreamingResponse(
        chunks(),
        status_code=response.status_code,
        media_type=response.media_type or "application/json",
        headers=headers,
    )


def _request_id_header(api: Api) -> str:
    return "request-id" if api == "anthropic" else "x-request-id"


def _error(api: Api, fault: Fault, number: str) -> JSONResponse:
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
    if api == "anthropic":
        headers["request-id"] = f"req_fake_{number}"
        content: dict[str, Any] = {
            "type": "error",
            "error": {"type": fault.error_type, "message": fault.message},
        }
    else:
        headers["x-request-id"] = f"req_fake_{number}"
        code = fault.code if fault.code is not None else fault.status
        content = {"error": {"message": fault.message, "type": fault.error_type, "code": code}}
    return JSONResponse(content, status_code=fault.status, headers=headers)


def _prompt_tokens(request: ModelRequest) -> int:
    keys = ("system", "messages", "tools", "tool_choice", "response_format")
    return tokens_for({key: request.body[key] for key in keys if key in request.body})


def _cut(data: dict[str, Any]) -> dict[str, Any]:
    """The first half of an object's keys, as a truncated tool call leaves it."""
    keys = list(data)
    return {key: data[key] for key in keys[: len(keys) // 2]}


def _anthropic_message(request: ModelRequest, reply: Reply, number: str) -> JSONResponse:
    name = request.schema_name
    if reply.data is not None and name:
        data = _cut(reply.data) if reply.truncated else reply.data
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": f"toolu_fake_{number}",
            "name": name,
            "input": data,
        }
        said: dict[str, Any] | str = data
    else:
        said = reply.text if reply.text is not None else json.dumps(reply.data or {})
        block = {"type": "text", "text": said}
    stop = (
        "max_tokens"
        if reply.truncated
        else ("tool_use" if block["type"] == "tool_use" else "end_turn")
    )
    content = {
        "id": f"msg_fake_{number}",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": _prompt_tokens(request), "output_tokens": tokens_for(said)},
    }
    return JSONResponse(content, headers={"request-id": f"req_fake_{number}"})


def _openai_completion(request: ModelRequest, reply: Reply, number: str) -> JSONResponse:
    if reply.text is not None:
        said = reply.text
    else:
        said = json.dumps(reply.data or {})
        if reply.truncated:
            said = said[: max(1, len(said) // 2)]
    message: dict[str, Any] = {"role": "assistant", "content": said, "refusal": None}
    if request.body.get("tools") and reply.text is None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_fake_{number}",
                "type": "function",
                "function": {"name": request.schema_name, "arguments": said},
            }
        ]
    finish = "length" if reply.truncated else ("tool_calls" if "tool_calls" in message else "stop")
    prompt, completion = _prompt_tokens(request), tokens_for(said)
    content = {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": request.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
    return JSONResponse(content, headers={"x-request-id": f"req_fake_{number}"})


def main(argv: list[str] | None = None) -> None:
    """Serve `ScriptedModels` answers until interrupted."""
    from triad_lab.simulator.models_script import ScriptedModels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = FakeModelServer(default=ScriptedModels())
    server.latency = args.latency
    server.start(args.port)
    log.info(
        "fake models: ANTHROPIC base URL %s, OPENAI base URL %s", server.url, server.openai_url
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    # run the imported module's `main`, so its classes are the ones `models_script` imports
    from triad_lab.simulator import model_server

    model_server.main()
