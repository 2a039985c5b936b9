"""The admin port over HTTP: the token guard, the pages, retrying a dead letter, /metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.metrics import Metrics
from bot.store import JobState, Store
from bot.web.app import create_admin_app, create_app
from bot.web.context import AppContext
from tests.ops.seed import Seeded, seed
from tests.web.conftest import WebhookClient, labeled_issue

TOKEN = "admin-token-for-tests"
#: a loopback address: the admin port answers only allowed hosts (loopback by default)
ADMIN_URL = "http://127.0.0.1:9090"
HTML = {"Accept": "text/html"}
Admin = tuple[httpx.AsyncClient, AppContext, Seeded]


@pytest.fixture
async def admin(store: Store) -> AsyncIterator[Admin]:
    seeded = await seed(store)
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s", admin_token=TOKEN)
    transport = httpx.ASGITransport(app=create_admin_app(context))
    async with httpx.AsyncClient(transport=transport, base_url=ADMIN_URL) as http:
        yield http, context, seeded


def _bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match is not None
    return match.group(1)


async def test_without_the_token_admin_and_metrics_are_refused(admin: Admin) -> None:
    http, _, _ = admin
    for path in ("/admin", "/metrics", "/admin/workflows/octo/repo/12"):
        answer = await http.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    wrong = await http.get("/metrics", headers=_bearer("not-the-token"))
    assert wrong.status_code == 401
    browser = await http.get("/admin", headers=HTML)
    assert browser.status_code == 303 and browser.headers["location"] == "/admin/login?next=/admin"
    assert (await http.get("/healthz")).status_code == 200  # health stays open


async def test_the_login_form_sets_an_httponly_cookie_without_the_token(admin: Admin) -> None:
    http, _, _ = admin
    failed = await http.post(
        "/admin/login", data={"token": "guess", "next": "/admin"}, headers=HTML
    )
    assert failed.status_code == 303 and "failed=1" in failed.headers["location"]
    assert "triad_admin" not in failed.cookies
    answer = await http.post("/admin/login", data={"token": TOKEN, "next": "https://evil.test"})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    assert (await http.get("/admin")).status_code == 200  # the client keeps the cookie


async def test_the_overview_shows_workflows_spend_queue_and_deliveries(admin: Admin) -> None:
    http, _, seeded = admin
    answer = await http.get("/admin", headers=_bearer())
    assert answer.status_code == 200
    page = answer.text
    assert '<a href="/admin/workflows/octo/repo/12">octo/repo#12</a>' in page
    assert '<a href="https://github.com/octo/repo/pull/13">PR #13</a>' in page
    assert '<a href="https://github.com/acme/app/issues/3">issue</a>' in page
    assert 'data-name="reviewing">reviewing<b>1</b>' in page
    spend = page.split('id="spend-totals"')[1].split("</table>")[0]
    assert "<td>5</td><td>architect</td>" in spend and "$1.50" in spend
    assert "<td>6</td><td>reviewer_b</td>" in spend and "$0.2500" in spend
    assert 'data-name="dead">dead<b>2</b>' in page
    dead = page.split('id="dead-letters"')[1].split("</table>")[0]
    assert f'data-job="{seeded.dead_job}"' in dead and "ModelUnavailable" in dead
    assert "<th>told</th>" in dead and "<td>no</td>" in dead, "nobody was told yet"
    assert 'data-name="ignored">ignored<b>1</b>' in page


async def test_a_workflow_page_draws_its_transitions_with_their_causes(admin: Admin) -> None:
    http, _, _ = admin
    answer = await http.get("/admin/workflows/octo/repo/12", headers=_bearer())
    assert answer.status_code == 200
    svg = answer.text.split("<svg")[1].split("</svg>")[0]
    assert re.findall(r'data-stage="([^"]+)"', svg) == [
        "(start)",
        "designing",
        "design-proposed",
        "reviewing",
    ]
    assert re.findall(r'data-cause="([^"]+)"', svg) == [
        "DesignRequested",
        "DesignProposed",
        "DesignApproved",
    ]
    assert "3. DesignApproved (maya)" in svg
    assert (await http.get("/admin/workflows/octo/repo/99", headers=_bearer())).status_code == 404


async def test_a_dead_letter_is_retried_from_the_page(admin: Admin) -> None:
    http, context, seeded = admin
    woken: list[int] = []
    stop = context.store.wake_on_queued(woken.append)
    page = (await http.get("/admin", headers=_bearer())).text
    answer = await http.post(
        f"/admin/jobs/{seeded.dead_job}/retry",
        data={"csrf": _csrf(page)},
        headers={**_bearer(), "Origin": ADMIN_URL},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin?retried=queued&job={seeded.dead_job}#queue"
    job = await context.store.get_job(seeded.dead_job)
    assert job is not None and job.state is JobState.QUEUED and woken == [1]
    stop()
    shown = await http.get(answer.headers["location"], headers=_bearer())
    assert f"Job {seeded.dead_job} queued again." in shown.text


async def test_a_retry_from_another_origin_or_without_the_csrf_token_is_refused(
    admin: Admin,
) -> None:
    http, context, seeded = admin
    page = (await http.get("/admin", headers=_bearer())).text
    url = f"/admin/jobs/{seeded.dead_job}/retry"
    for data, origin in (
        ({"csrf": _csrf(page)}, "https://evil.test"),
        ({"csrf": "0" * 64}, ADMIN_URL),
        ({}, ADMIN_URL),
        ({"csrf": _csrf(page)}, None),
    ):
        headers = {**_bearer()} | ({"Origin": origin} if origin else {})
        answer = await http.post(url, data=data, headers=headers)
        assert answer.status_code == 403, (data, origin)
    job = await context.store.get_job(seeded.dead_job)
    assert job is not None and job.state is JobState.DEAD


async def test_without_a_token_the_admin_port_is_open(store: Store) -> None:
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s")
    transport = httpx.ASGITransport(app=create_admin_app(context))
    async with httpx.AsyncClient(transport=transport, base_url=ADMIN_URL) as http:
        assert (await http.get("/admin")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_metrics_cover_spend_tokens_workflows_dead_letters_and_more(admin: Admin) -> None:
    http, context, _ = admin
    context.metrics.model_call("architect", "anthropic", "ok", 2500)
    context.metrics.github_rate_limit(5, 4321)
    answer = await http.get("/metrics", headers=_bearer())
    assert answer.status_code == 200
    text = answer.text
    for line in (
        'triad_model_cost_dollars_total{provider="anthropic",role="architect"} 1.5',
        'triad_model_cost_dollars_total{provider="openai",role="reviewer_b"} 0.25',
        'triad_model_tokens_total{direction="input",provider="anthropic",role="developer"} 800.0',
        'triad_workflows{stage="reviewing"} 1.0',
        'triad_workflows{stage="done"} 0.0',
        'triad_dead_letters{kind="architect"} 1.0',
        'triad_dead_letters_reported{how="no",kind="architect"} 1.0',
        'triad_jobs{state="dead"} 2.0',
        "triad_transitions_undone 1.0",  # the approval queued a review, not yet carried out
        'triad_model_call_seconds_count{outcome="ok",provider="anthropic",role="architect"} 1.0',
        'triad_github_rate_limit_remaining{installation="5"} 4321.0',
    ):
        assert line in text, line


async def test_the_webhook_port_has_no_metrics_or_admin(store: Store) -> None:
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s")
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://triad.test") as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/admin")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200


async def test_ignored_deliveries_are_counted_by_reason(webhooks: WebhookClient) -> None:
    await webhooks.send("issues", labeled_issue(installation=False))
    for starred in ("1", "2"):  # two bodies: the same body twice would be a replay
        await webhooks.send("star", {"action": "created", "installation": {"id": 1}, "n": starred})
    registry = webhooks.context.metrics.registry
    sample = registry.get_sample_value
    assert sample("triad_webhook_ignored_total", {"event": "star", "reason": "no_route"}) == 2
    labels = {"event": "issues", "reason": "no_installation"}
    assert sample("triad_webhook_ignored_total", labels) == 1
