"""The admin port's guard: the Host allow-list, sessions that expire and end at sign-out, a
banner the page words itself, and ids out of range answered 422 rather than 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.metrics import Metrics
from bot.store import JobState, Store
from bot.web.admin_auth import COOKIE, SESSION_SECONDS, AdminSessions
from bot.web.app import create_admin_app
from bot.web.context import AppContext
from tests.ops.seed import Seeded, seed
from tests.web.test_admin import ADMIN_URL, HTML, TOKEN, Admin, _bearer, _csrf


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def admin(store: Store) -> AsyncIterator[tuple[httpx.AsyncClient, AppContext, Seeded]]:
    seeded = await seed(store)
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s", admin_token=TOKEN)
    transport = httpx.ASGITransport(app=create_admin_app(context))
    async with httpx.AsyncClient(transport=transport, base_url=ADMIN_URL) as http:
        yield http, context, seeded


async def test_only_allowed_hosts_are_answered(store: Store) -> None:
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s")
    app = create_admin_app(context)  # no token: only loopback names may reach it
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ADMIN_URL) as http:
        for host in ("127.0.0.1:9090", "localhost:9090", "[::1]:9090", "localhost"):
            answer = await http.get("/admin", headers={"Host": host})
            assert answer.status_code == 200, host
        for path in ("/admin", "/metrics", "/admin/login"):
            rebound = await http.get(path, headers={"Host": "attacker.example:9090"})
            assert rebound.status_code == 400 and rebound.text == "Invalid host header", path
        # a platform's health check comes by address, and /healthz tells nothing
        assert (await http.get("/healthz", headers={"Host": "10.0.0.7:9090"})).status_code == 200

    named = create_admin_app(context, allowed_hosts=["admin.example.com", "*.internal"])
    transport = httpx.ASGITransport(app=named)
    async with httpx.AsyncClient(transport=transport, base_url=ADMIN_URL) as http:
        for host, status in (
            ("admin.example.com", 200),
            ("triad.internal:9090", 200),
            ("127.0.0.1:9090", 400),
            ("admin.example.com.evil.test", 400),
        ):
            assert (await http.get("/admin", headers={"Host": host})).status_code == status, host


async def _sign_in(http: httpx.AsyncClient) -> httpx.Response:
    answer = await http.post("/admin/login", data={"token": TOKEN, "next": "/admin"})
    assert answer.status_code == 303
    return answer


async def test_a_session_is_random_expires_and_is_marked_for_the_browser(admin: Admin) -> None:
    http, _, _ = admin
    first = (await _sign_in(http)).headers["set-cookie"]
    second = (await _sign_in(http)).headers["set-cookie"]
    assert first.split(";")[0] != second.split(";")[0]  # not derived from the token
    attributes = {part.strip().split("=")[0].lower(): part for part in first.split(";")[1:]}
    assert attributes["max-age"].strip() == f"Max-Age={SESSION_SECONDS}"
    assert "httponly" in attributes and attributes["samesite"].strip() == "SameSite=strict"
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    transport = http._transport  # the same app over https
    async with httpx.AsyncClient(transport=transport, base_url="https://localhost") as https:
        cookie = (await _sign_in(https)).headers["set-cookie"]
        assert "Secure" in cookie.split("; ")


async def test_sign_out_revokes_the_session(admin: Admin) -> None:
    http, _, _ = admin
    await _sign_in(http)
    session = http.cookies[COOKIE]
    page = await http.get("/admin")
    assert page.status_code == 200
    answer = await http.post(
        "/admin/logout", data={"csrf": _csrf(page.text)}, headers={"Origin": ADMIN_URL}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login"
    http.cookies.clear()
    replayed = await http.get("/admin", headers={"Cookie": f"{COOKIE}={session}"})
    assert replayed.status_code == 401  # a copy of the cookie is worth nothing now


async def test_an_expired_session_is_refused(admin: Admin) -> None:
    http, _, _ = admin
    clock = Clock()
    sessions = AdminSessions(clock=clock)
    http._transport.app.state.admin_sessions = sessions  # type: ignore[attr-defined]
    await _sign_in(http)
    clock.now += SESSION_SECONDS - 1
    assert (await http.get("/admin")).status_code == 200
    clock.now += 2
    expired = await http.get("/admin", headers=HTML)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/admin/login")


async def test_the_banner_is_worded_by_the_page_never_by_the_address(admin: Admin) -> None:
    http, _, seeded = admin
    for query in (
        "retried=Your+session+expired:+call+555-0100",
        "retried=<b>x</b>",
        "retried=queued&job=call-555-0100",
        "retried=queued&job=" + "9" * 5000,
        "retried=queued",
    ):
        page = await http.get(f"/admin?{query}", headers=_bearer())
        assert page.status_code == 200, query
        assert 'id="flash"' not in page.text and "555" not in page.text, query
    page = await http.get("/admin?retried=all&count=2", headers=_bearer())
    assert re.search(r'id="flash">2 dead jobs queued again.<', page.text)
    live = await http.get("/admin", headers=_bearer())
    answer = await http.post(
        f"/admin/jobs/{seeded.queued_job}/retry",
        data={"csrf": _csrf(live.text)},
        headers={**_bearer(), "Origin": ADMIN_URL},
    )
    assert answer.headers["location"] == f"/admin?retried=not-dead&job={seeded.queued_job}#queue"
    shown = await http.get(answer.headers["location"], headers=_bearer())
    assert f"Job {seeded.queued_job} not retried: it is not dead." in shown.text


async def test_ids_out_of_range_are_refused_with_a_4xx(admin: Admin) -> None:
    http, context, _ = admin
    live = await http.get("/admin", headers=_bearer())
    form = {"csrf": _csrf(live.text)}
    headers = {**_bearer(), "Origin": ADMIN_URL}
    for job in ("99999999999999999999", "0", "-1"):
        answer = await http.post(f"/admin/jobs/{job}/retry", data=form, headers=headers)
        assert answer.status_code == 422, job
    unknown = await http.post("/admin/jobs/9223372036854775807/retry", data=form, headers=headers)
    assert unknown.headers["location"].startswith("/admin?retried=no-such-job&")
    for number in ("99999999999", "0"):
        page = await http.get(f"/admin/workflows/octo/repo/{number}", headers=_bearer())
        assert page.status_code == 422, number
    assert len(await context.store.list_jobs(JobState.DEAD)) == 2


async def test_a_form_larger_than_a_form_is_refused_before_it_is_held(
    admin: tuple[httpx.AsyncClient, AppContext, Seeded],
) -> None:
    """The sign-in form is read before anyone is known: read whole, a 200 MB post held the
    process's memory (the webhook port's bounds did not apply here)."""
    http, _, _ = admin
    form = {"content-type": "application/x-www-form-urlencoded", "origin": ADMIN_URL}
    for path in ("/admin/login", "/admin/logout"):
        sent = await http.post(path, content=b"token=" + b"x" * 100_000, headers=form)
        assert sent.status_code == 413, path
        declared = {**form, "content-length": "9" * 30}
        sent = await http.post(path, content=b"token=x", headers=declared)
        assert sent.status_code == 413, path
