"""githubkit clients for the App's installations: token refresh, write pacing, retries, and
failures as Triad's errors.

GitHub allows about 80 content-creating requests a minute per installation (secondary rate
limits), so each installation's client spaces its writes; rate-limit answers are retried after
the `retry-after` GitHub gives, and 5xx answers a few times with backoff. What still fails
after that leaves the client as a `bot.errors.GitHubError` (`failures.translate`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import anyio
import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, Response
from githubkit.auth import BaseAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RequestError, RequestFailed
from githubkit.retry import RetryChainDecision, RetryRateLimit
from githubkit.throttling import BaseThrottler
from githubkit.typing import RetryOption, URLTypes
from httpx._utils import URLPattern, get_environment_proxies

from bot.errors import GitHubError
from bot.github.failures import translate
from bot.github.repo import Repo
from bot.github.writes import repeatable
from bot.numbers import natural

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
DEFAULT_WRITE_INTERVAL = 60 / 80


class WritePacer(BaseThrottler):
    """At most `max_concurrency` requests at once, and writes at least `interval` s apart."""

    def __init__(self, interval: float = DEFAULT_WRITE_INTERVAL, max_concurrency: int = 4) -> None:
        self.interval = interval
        self._concurrency = anyio.Semaphore(max_concurrency)
        self._write_lock = anyio.Lock()
        self._last_write = float("-inf")

    @contextmanager
    def acquire(self, request: httpx.Request) -> Generator[None, Any, Any]:  # noqa: ARG002 (githubkit's signature)
        raise NotImplementedError("Triad uses githubkit's async API only")
        yield

    @asynccontextmanager
    async def async_acquire(self, request: httpx.Request) -> AsyncGenerator[None, Any]:
        async with self._concurrency:
            if request.method in WRITE_METHODS and self.interval > 0:
                async with self._write_lock:
                    wait = self._last_write + self.interval - time.monotonic()
                    if wait > 0:
                        await anyio.sleep(wait)
                    self._last_write = time.monotonic()
            yield


class RetryServerErrors:
    """Retry 5xx answers `max_retry` times, `base_delay * 2**n` seconds apart, and a
    connection dropped before any answer once at once (a kept-alive connection the server
    closed as it was reused), for requests that are safe to send again; a write GitHub may
    have carried out is left to its caller, which looks whether it landed first
    (`bot.github.writes`)."""

    def __init__(self, max_retry: int = 3, base_delay: float = 1.0) -> None:
        self.max_retry = max_retry
        self.base_delay = base_delay

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if (
            retry_count < self.max_retry
            and isinstance(exc, RequestFailed)
            and exc.response.status_code >= 500
            and repeatable(exc.request.method, exc.request.url.path)
        ):
            return RetryOption(True, timedelta(seconds=self.base_delay * 2**retry_count))
        if retry_count == 0 and _dropped(exc):
            # not timedelta(0): githubkit takes a falsy delay for "none given" and waits 60 s
            return RetryOption(True, timedelta(microseconds=1))
        return RetryOption(False)


def _dropped(exc: GitHubException) -> bool:
    """Whether a repeatable request failed on a connection closed before any answer."""
    if not isinstance(exc, RequestError):
        return False
    inner = exc.exc
    return isinstance(inner, httpx.RemoteProtocolError | httpx.ReadError) and repeatable(
        inner.request.method, inner.request.url.path
    )


RateLimitHook = Callable[[httpx.Response], Awaitable[None]]


class SharedTransport(httpx.AsyncBaseTransport):
    """The one pool of connections every GitHub client of a process sends through.

    Outside `async with github:` githubkit builds an httpx client for every request, and each
    builds its own connection pool and TLS context (loading the CA bundle: ~22 ms of CPU) and
    opens a new connection. Given this as `async_transport`, those per-request clients share
    one `httpx.AsyncHTTPTransport` per proxy route, whose connections are kept and reused.
    Each request takes the route httpx's own clients would (HTTP(S)_PROXY, ALL_PROXY,
    NO_PROXY, matched per URL: the API and the host an Actions log redirects to may differ).
    Their `aclose` leaves the pools open; `shutdown` closes them.

    An idle connection is dropped after httpx's `keepalive_expiry` (5 s), below the idle
    timeouts of GitHub and common proxies (60 s and more); one the server closes as it is
    reused anyway is sent again by `RetryServerErrors` (reads) or looked behind by
    `writes.write_once` (writes that may have landed).

    Connections belong to the event loop that opened them, so each loop gets its own pools.
    Triad runs one loop per process; a loop that used it calls `shutdown` before it ends
    (pools a loop left open are dropped with it, their sockets with the garbage).
    """

    def __init__(self) -> None:
        #: per event loop, a pool per proxy (None: direct)
        self._pools: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str | None, httpx.AsyncHTTPTransport]
        ] = weakref.WeakKeyDictionary()
        self._routes: list[tuple[URLPattern, str | None]] | None = None
        self._tls: ssl.SSLContext | None = None

    def warm(self) -> None:
        """Load the CA bundle now, off the event loop (the first request would, holding the
        loop for ~22 ms of CPU; tens of ms more while the machine is busy)."""
        self._tls_context()

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every pool: the CA bundle is loaded once per process."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context(trust_env=True)
        return self._tls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pools = self._pools.setdefault(asyncio.get_running_loop(), {})
        proxy = self._proxy_for(request.url)
        pool = pools.get(proxy)
        if pool is None:
            pool = pools[proxy] = httpx.AsyncHTTPTransport(
                verify=self._tls_context(), proxy=proxy, trust_env=True
            )
        return await pool.handle_async_request(request)

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy the environment names for `url`, as httpx's clients choose it."""
        if self._routes is None:
            # httpx's own reading of the environment (its clients do the same, privately)
            routes = [(URLPattern(key), proxy) for key, proxy in get_environment_proxies().items()]
            self._routes = sorted(routes, key=lambda route: route[0])  # most specific first
        for pattern, proxy in self._routes:
            if pattern.matches(url):
                return proxy
        return None

    async def aclose(self) -> None:
        """Called by each per-request client as it closes: the pools stay open."""

    async def shutdown(self) -> None:
        """Close the pools of the event loop this runs in (each loop closes its own)."""
        for pool in self._pools.pop(asyncio.get_running_loop(), {}).values():
            await pool.aclose()


A = TypeVar("A", bound=BaseAuthStrategy)


class Client(GitHub[A]):
    """githubkit's client, whose failures are Triad's errors once its retries are spent.

    Every REST call, paginated or not, goes through `arequest`; GraphQL through
    `async_graphql` (which also fails on errors in a 200 answer).
    """

    async def arequest(self, method: str, url: URLTypes, **options: Any) -> Response[Any, Any]:
        try:
            return await super().arequest(method, url, **options)
        except GitHubException as exc:
            raise translate(exc, method, url) from exc

    async def async_graphql(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            return await super().async_graphql(query, variables)
        except GitHubException as exc:  # errors in the answer (the request itself: `arequest`)
            raise translate(exc, "POST", "/graphql") from exc


#: the githubkit REST namespaces Triad calls (`GitHubApp.warm` imports them ahead of use)
_NAMESPACES = ("actions", "apps", "checks", "git", "issues", "pulls", "repos")


class GitHubApp:
    """The App's identity and one paced client per installation (tokens refresh themselves)."""

    def __init__(  # noqa: PLR0913 - the App's identity, then keyword-only tuning
        self,
        app_id: int,
        private_key: str,
        base_url: str = "https://api.github.com",
        *,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        retry_base_delay: float = 1.0,
        rate_limit_retries: int = 3,
        timeout: float = 30.0,
        on_rate_limit: Callable[[int, int], None] | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.app_id = app_id
        #: what every text Triad writes on GitHub goes through (the process's one redactor)
        self._redact = redact
        #: told (installation id, requests left) whenever GitHub's answer says
        self._on_rate_limit = on_rate_limit
        self._private_key = private_key
        self.base_url = base_url
        self._write_interval = write_interval
        self._retry = RetryChainDecision(
            RetryRateLimit(max_retry=rate_limit_retries),
            RetryServerErrors(base_delay=retry_base_delay),
        )
        self._retry_delay = retry_base_delay
        self._timeout = timeout
        self._installations: dict[int, Client[AppInstallationAuthStrategy]] = {}
        self._app: Client[AppAuthStrategy] | None = None
        self._login = ""
        self._login_task: asyncio.Future[str] | None = None
        # JWTs and installation tokens are cached per App key, not in githubkit's process-wide
        # cache (keyed by App id only), so two Apps in one process never share a token.
        # githubkit's HTTP cache stays off: hishel drops httpx's per-request timeout
        # (hishel#484), so a GitHub that never answers would hold a job for ever; and githubkit
        # revalidates every cached read anyway.
        # MemCacheStrategy keeps a JWT 8 minutes and an installation token until a minute
        # before the `expires_at` GitHub gave it (githubkit's AppInstallationAuthStrategy).
        self._cache = MemCacheStrategy()
        self.transport = SharedTransport()

    def as_app(self) -> Client[AppAuthStrategy]:
        """A client authenticated as the App itself (JWT), e.g. to read its slug.

        Kept, not made per call: githubkit's namespaces hold only a weak reference to it.
        """
        if self._app is None:
            self._app = Client(
                AppAuthStrategy(self.app_id, self._private_key),
                base_url=self.base_url,
                auto_retry=self._retry,
                timeout=self._timeout,
                cache_strategy=self._cache,
                http_cache=False,
                async_transport=self.transport,
            )
        return self._app

    def installation(self, installation_id: int) -> Client[AppInstallationAuthStrategy]:
        client = self._installations.get(installation_id)
        if client is None:
            client = Client(
                AppInstallationAuthStrategy(self.app_id, self._private_key, installation_id),
                base_url=self.base_url,
                auto_retry=self._retry,
                throttler=WritePacer(self._write_interval),
                timeout=self._timeout,
                cache_strategy=self._cache,
                async_event_hooks={"response": [self._rate_limit_hook(installation_id)]},
                http_cache=False,
                async_transport=self.transport,
            )
            self._installations[installation_id] = client
        return client

    def warm(self) -> None:
        """Do now, in a thread, what the first requests would do on the event loop: load the CA
        bundle, and import the githubkit REST namespaces Triad calls (each is imported at its
        first use, holding the GIL for tens to hundreds of ms)."""
        self.transport.warm()
        rest = self.as_app().rest
        for namespace in _NAMESPACES:
            getattr(rest, namespace)

    async def aclose(self) -> None:
        """Close the process's connections to GitHub (at the end of the process)."""
        await self.transport.shutdown()

    def _rate_limit_hook(self, installation_id: int) -> RateLimitHook:
        async def hook(response: httpx.Response) -> None:
            remaining = natural(response.headers.get("x-ratelimit-remaining", ""))
            if self._on_rate_limit is not None and remaining is not None:
                self._on_rate_limit(installation_id, remaining)

        return hook

    def repo(self, installation_id: int, full_name: str, me: str | None = None) -> Repo:
        """`full_name` as the installation sees it; `me` is Triad's bot login."""
        return Repo(
            self.installation(installation_id),
            full_name,
            me=me,
            redact=self._redact,
            retry_delay=self._retry_delay,
        )

    async def own_login(self) -> str:
        """The App's bot user, e.g. "triad[bot]", asked of GitHub once per process: callers
        that ask at once (a worker's loops at start) wait for the one request."""
        if not self._login:
            if self._login_task is None or self._login_task.done():
                self._login_task = asyncio.ensure_future(self._ask_login())
            self._login = await asyncio.shield(self._login_task)
        return self._login

    async def _ask_login(self) -> str:
        app = (await self.as_app().rest.apps.async_get_authenticated()).parsed_data
        if app is None or not app.slug:
            raise GitHubError("GitHub did not name the App", method="GET", path="/app")
        return f"{app.slug}[bot]"
