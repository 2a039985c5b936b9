"""POST /api/github/webhooks: verification, limits, dedup, routing and real GitHub payloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable

import pytest

from bot.settings import MAX_WEBHOOK_BYTES
from bot.store import DeliveryOutcome, Store
from bot.store.repo_configs import CachedConfig, ConfigCache
from tests.conftest import FIXTURES
from tests.web.conftest import WebhookClient, labeled_issue

pytestmark = pytest.mark.asyncio


async def test_a_handled_delivery_is_stored_with_one_job_before_202(
    webhooks: WebhookClient, store: Store
) -> None:
    answer = await webhooks.send("issues", labeled_issue(), delivery="d-1")
    assert answer.status_code == 202
    assert answer.json() == {"status": "queued", "delivery": "d-1"}
    delivery = await store.get_delivery("d-1")
    assert delivery is not None
    assert (delivery.event, delivery.action, delivery.installation_id) == ("issues", "labeled", 42)
    assert (delivery.repository, delivery.sender) == ("octo/repo", "alice")
    assert json.loads(delivery.body) == labeled_issue()
    jobs = await store.list_jobs()
    assert [(job.kind, job.payload) for job in jobs] == [("delivery", {"delivery_id": "d-1"})]
    assert webhooks.wakeups == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=deadbeef", "sha256=zz", "sha256=é".encode()],
)
async def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    webhooks: WebhookClient, store: Store, signature: str | bytes | None
) -> None:
    body = json.dumps(labeled_issue()).encode()
    headers = {b"X-GitHub-Event": b"issues", b"X-GitHub-Delivery": b"d-1"}
    if signature is not None:
        sent = signature if isinstance(signature, bytes) else signature.encode()
        headers[b"X-Hub-Signature-256"] = sent
    answer = await webhooks.http.post("/api/github/webhooks", content=body, headers=headers)
    assert answer.status_code == 401
    assert await store.count_deliveries() == 0 and await store.list_jobs() == []


async def test_a_body_signed_with_another_secret_is_401(
    webhooks: WebhookClient, store: Store
) -> None:
    answer = await webhooks.send("issues", labeled_issue(), secret="not the secret")
    assert answer.status_code == 401
    assert await store.count_deliveries() == 0


async def test_the_legacy_sha1_header_alone_is_not_enough(webhooks: WebhookClient) -> None:
    body = json.dumps(labeled_issue()).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature": "sha1=0123456789abcdef0123456789abcdef01234567",
    }
    answer = await webhooks.http.post("/api/github/webhooks", content=body, headers=headers)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-GitHub-Event", ""), ("X-GitHub-Delivery", ""), ("X-GitHub-Delivery", "a b/../c")],
)
async def test_missing_or_malformed_event_headers_are_400(
    webhooks: WebhookClient, store: Store, header: str, value: str
) -> None:
    answer = await webhooks.send("issues", labeled_issue(), headers={header: value})
    assert answer.status_code == 400
    assert header in answer.json()["message"]
    assert await store.count_deliveries() == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000],
)
async def test_a_body_that_is_not_a_json_object_is_400(
    webhooks: WebhookClient, store: Store, body: bytes
) -> None:
    answer = await webhooks.send("issues", body)
    assert answer.status_code == 400
    assert await store.count_deliveries() == 0


async def test_a_signed_event_triads_models_cannot_read_is_kept_as_unreadable(
    webhooks: WebhookClient, store: Store
) -> None:
    payload = labeled_issue()
    del payload["issue"]["number"]
    answer = await webhooks.send("issues", payload, delivery="d-odd")
    assert answer.status_code == 202
    assert answer.json()["status"] == "unreadable" and "issue.number" in answer.json()["reason"]
    kept = await store.get_delivery("d-odd")
    assert kept is not None and kept.outcome is DeliveryOutcome.UNREADABLE
    assert kept.reason is not None and "issue.number" in kept.reason
    assert json.loads(kept.body) == payload  # kept whole, to replay after an upgrade
    assert await store.list_jobs() == [] and webhooks.wakeups == 0


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
async def test_ci_on_a_branch_naming_an_impossible_issue_is_ignored_not_lost(
    webhooks: WebhookClient, store: Store, number: int
) -> None:
    """An outsider names a fork's branch `triad/issue-<huge>`; its CI's runs report that
    branch. Before, the door asked the store about that issue and SQLite could not bind the
    number: the delivery failed (500) and was not stored."""
    payload = json.loads((FIXTURES / "workflow_run.completed.json").read_text())
    payload["workflow_run"]["head_branch"] = f"triad/issue-{number}"
    payload["installation"] = {"id": 42}
    answer = await webhooks.send("workflow_run", payload, delivery="d-ci")
    assert answer.status_code == 202
    assert answer.json()["status"] == "ignored"
    kept = await store.get_delivery("d-ci")
    assert kept is not None and kept.outcome is DeliveryOutcome.IGNORED
    assert kept.reason is not None and "not a Triad branch" in kept.reason
    assert await store.list_jobs() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("issue.number", 2**31), ("issue.number", 0), ("installation.id", 2**63)],
)
async def test_a_number_no_store_can_hold_makes_a_delivery_unreadable(
    webhooks: WebhookClient, store: Store, field: str, value: int
) -> None:
    """GitHub's numbers are 32-bit and its ids 64-bit: a delivery with another is kept as
    unreadable, naming the field, rather than failing to store."""
    payload = labeled_issue()
    outer, inner = field.split(".")
    payload[outer][inner] = value
    answer = await webhooks.send("issues", payload, delivery="d-big")
    assert answer.status_code == 202
    assert answer.json()["status"] == "unreadable" and field in answer.json()["reason"]
    kept = await store.get_delivery("d-big")
    assert kept is not None and kept.outcome is DeliveryOutcome.UNREADABLE
    assert await store.list_jobs() == []


async def test_the_same_body_under_a_new_delivery_id_is_a_recorded_duplicate(
    webhooks: WebhookClient, store: Store
) -> None:
    first = await webhooks.send("issues", labeled_issue(), delivery="d-1")
    replay = await webhooks.send("issues", labeled_issue(), delivery="d-2")
    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.json() == {"status": "duplicate", "delivery": "d-2", "replay_of": "d-1"}
    recorded = await store.get_delivery("d-2")
    assert recorded is not None and recorded.outcome is DeliveryOutcome.DUPLICATE
    assert recorded.body == b"" and "d-1" in (recorded.reason or "")
    assert len(await store.list_jobs()) == 1
    # the replay sent again under yet another id is a duplicate of the original still
    again = await webhooks.send("issues", labeled_issue(), delivery="d-3")
    assert again.json()["replay_of"] == "d-1"


@pytest.mark.parametrize("declared", [str(MAX_WEBHOOK_BYTES + 1), "9" * 5000])
async def test_a_declared_oversize_body_is_413_before_reading_it(
    webhooks: WebhookClient, store: Store, declared: str
) -> None:
    """However long the length it declares: `int` refuses a text of over 4300 digits."""
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        for _ in range(30):
            chunks_read += 1
            yield b" " * (1024 * 1024)

    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "d-big",
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "Content-Length": declared,
    }
    answer = await webhooks.http.post("/api/github/webhooks", content=body(), headers=headers)
    assert answer.status_code == 413
    assert chunks_read <= 1
    assert await store.count_deliveries() == 0


async def test_a_streamed_oversize_body_is_413_as_soon_as_it_passes_the_limit(
    webhooks: WebhookClient,
) -> None:
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        for _ in range(100):
            chunks_read += 1
            yield b" " * (1024 * 1024)

    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-big"}
    answer = await webhooks.http.post("/api/github/webhooks", content=body(), headers=headers)
    assert answer.status_code == 413
    assert chunks_read <= 27, "the endpoint kept reading past 25 MB"


async def test_a_redelivery_is_200_and_queues_nothing_more(
    webhooks: WebhookClient, store: Store
) -> None:
    first = await webhooks.send("issues", labeled_issue(), delivery="d-1")
    again = await webhooks.send("issues", labeled_issue(), delivery="d-1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"status": "duplicate", "delivery": "d-1"}
    assert len(await store.list_jobs()) == 1 and await store.count_deliveries() == 1


async def test_concurrent_copies_of_a_delivery_make_one_job(
    webhooks: WebhookClient, store: Store
) -> None:
    answers = await asyncio.gather(
        *(webhooks.send("issues", labeled_issue(), delivery="d-1") for _ in range(12))
    )
    assert sorted(answer.status_code for answer in answers) == [200] * 11 + [202]
    assert len(await store.list_jobs()) == 1


async def test_ping_is_200_and_queues_nothing(webhooks: WebhookClient, store: Store) -> None:
    answer = await webhooks.send("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert answer.status_code == 200 and answer.json()["status"] == "pong"
    assert await store.list_jobs() == []


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("star", {"action": "created", "sender": {"login": "bob", "id": 2}}),
        ("issues", {**labeled_issue(), "action": "pinned"}),
        ("issues", labeled_issue(installation=False)),
    ],
)
async def test_unhandled_events_are_202_recorded_as_ignored_without_a_job(
    webhooks: WebhookClient, store: Store, event: str, payload: dict[str, object]
) -> None:
    answer = await webhooks.send(event, payload, delivery="d-x")
    assert answer.status_code == 202 and answer.json()["status"] == "ignored"
    assert answer.json()["reason"]
    delivery = await store.get_delivery("d-x")
    assert delivery is not None and delivery.outcome is DeliveryOutcome.IGNORED
    assert await store.list_jobs() == []
    assert webhooks.wakeups == 0


async def test_every_real_github_delivery_is_accepted(
    webhooks: WebhookClient, store: Store
) -> None:
    files = sorted(FIXTURES.glob("*.json"))
    assert files
    reasons = {}
    for n, path in enumerate(files):
        event = path.name.split(".")[0]
        answer = await webhooks.send(event, path.read_bytes(), delivery=f"fixture-{n}")
        assert answer.status_code in (200, 202), f"{path.name}: {answer.text}"
        reasons[path.name] = answer.json().get("reason", answer.json()["status"])
    assert await store.count_deliveries() == len(files)
    # a person's PR labelled, opened or pushed to may concern Triad (the review label's name,
    # review.auto and review.on_push are per repository): those are queued; the rest
    # (comments without a command, events Triad has no route for) are dropped at the door
    queued = {name for name, reason in reasons.items() if reason == "queued"}
    assert queued == {
        "pull_request.labeled.json",
        "pull_request.opened.json",
        "pull_request.synchronize.json",
    }
    assert len(await store.list_jobs()) == len(queued)
    assert reasons["issue_comment.created.with-installation.json"] == (
        "the comment holds no /triad command"
    )
    assert reasons["pull_request_review.submitted.json"] == (
        "Triad does not act on pull_request_review.submitted"
    )
    assert reasons["issues.labeled.json"] == (
        "the delivery names no App installation or repository"
    )
    assert reasons["ping.json"] == "pong"


async def test_triads_own_events_are_dropped_at_the_door(
    webhooks: WebhookClient, store: Store
) -> None:
    webhooks.context.own_login = "triad[bot]"
    payload = {
        "action": "created",
        "issue": {"number": 1, "title": "t", "user": {"login": "a", "id": 1}},
        "comment": {"id": 2, "body": "/triad status", "user": {"login": "triad[bot]", "id": 9}},
        "sender": {"login": "triad[bot]", "id": 9, "type": "Bot"},
        "installation": {"id": 3},
        "repository": {"id": 4, "name": "r", "full_name": "o/r", "owner": {"login": "o", "id": 5}},
    }
    answer = await webhooks.send("issue_comment", payload, delivery="own-1")
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "ignored",
        "delivery": "own-1",
        "reason": "Triad's own event",
    }
    assert await store.list_jobs() == [] and webhooks.wakeups == 0


# -- what the store knows, at the door (issue 14): never a GitHub request ------------------


def _cache_defaults(store: Store, *repositories: str) -> list[Awaitable[bool]]:
    """Each repository's config cached as read (no `.github/triad.yml`: the defaults)."""
    cache = ConfigCache(store)
    return [cache.put(CachedConfig(name, "a" * 40, None, store.clock())) for name in repositories]


def _persons_pull(action: str, **fields: object) -> dict[str, object]:
    user = {"login": "alice", "id": 1, "type": "User"}
    head = {"ref": "feature/x", "sha": "a" * 40, "repo": {"full_name": "octo/repo"}}
    base = {"ref": "main", "sha": "b" * 40, "repo": {"full_name": "octo/repo"}}
    return {
        "action": action,
        "number": 40,
        "pull_request": {"number": 40, "user": user, "head": head, "base": base},
        "repository": {"id": 9, "name": "repo", "full_name": "octo/repo", "owner": user},
        "sender": user,
        "installation": {"id": 42},
        **fields,
    }


async def test_with_the_config_cached_no_real_delivery_that_cannot_concern_triad_is_queued(
    webhooks: WebhookClient, store: Store
) -> None:
    """The same real deliveries as above, once their repositories' config is cached: the PR
    labelled `bug`, opened with `review.auto` off and pushed to without a review are dropped."""
    for cached in _cache_defaults(store, "Codertocat/Hello-World", "octo-org/octo-repo"):
        await cached
    reasons = {}
    for n, path in enumerate(sorted(FIXTURES.glob("*.json"))):
        event = path.name.split(".")[0]
        answer = await webhooks.send(event, path.read_bytes(), delivery=f"fixture-{n}")
        assert answer.status_code in (200, 202), f"{path.name}: {answer.text}"
        reasons[path.name] = answer.json().get("reason", answer.json()["status"])
    assert [name for name, reason in reasons.items() if reason == "queued"] == []
    assert await store.list_jobs() == [] and webhooks.wakeups == 0
    assert reasons["pull_request.labeled.json"].startswith("label 'bug' is not one of Triad's")
    assert reasons["pull_request.opened.json"] == "review.auto is off"
    assert reasons["pull_request.synchronize.json"] == (
        "Triad has no workflow for this pull request"
    )
    assert reasons["push.with-installation.json"] == (
        "a push to a branch other than the default branch"
    )


async def test_each_answer_is_counted_by_event_and_outcome(webhooks: WebhookClient) -> None:
    """Each series is its own, looked up once and then only added to."""
    await webhooks.send("issues", labeled_issue("triad:design"), delivery="d-1")
    await webhooks.send("issues", labeled_issue("triad:design"), delivery="d-1")  # redelivered
    await webhooks.send("issues", labeled_issue("triad:build"), delivery="d-2")
    await webhooks.send("issues", labeled_issue("triad:build"), delivery="d-3")  # a replay
    await webhooks.send("issue_comment", labeled_issue("x"), delivery="d-4", secret="wrong")
    sample = webhooks.context.metrics.registry.get_sample_value
    counted = {
        (event, outcome): sample(
            "triad_webhook_deliveries_total", {"event": event, "outcome": outcome}
        )
        for event in ("issues", "issue_comment")
        for outcome in ("queued", "duplicate", "unauthorized")
    }
    assert {key: n for key, n in counted.items() if n} == {
        ("issues", "queued"): 2,
        ("issues", "duplicate"): 2,
        ("issue_comment", "unauthorized"): 1,
    }


async def test_made_up_event_names_cannot_grow_the_metrics_without_bound(
    webhooks: WebhookClient,
) -> None:
    """X-GitHub-Event is outside the signature: a stranger's unsigned requests, or a captured
    body replayed under a new event name each time, mint no more than a few series."""
    webhooks.endpoint.label.most = 2
    body = json.dumps(labeled_issue("triad:design")).encode()
    await webhooks.send("issues", body, secret="wrong")  # an event the App subscribes to
    for n in range(4):
        assert (await webhooks.send(f"made_up_{n}", body)).status_code in (200, 202)
        await webhooks.send(f"unsigned_{n}", body, secret="wrong")
    families = list(webhooks.context.metrics.registry.collect())
    [delivered] = [f for f in families if f.name == "triad_webhook_deliveries"]
    counted = {
        (s.labels["event"], s.labels["outcome"]): s.value
        for s in delivered.samples
        if s.name.endswith("_total")
    }
    assert counted == {
        ("issues", "unauthorized"): 1,
        ("made_up_0", "ignored"): 1,  # the first two names of signed deliveries
        ("made_up_1", "duplicate"): 1,
        ("other", "duplicate"): 2,
        ("other", "unauthorized"): 4,
    }


async def test_a_label_outside_the_repositorys_triad_labels_is_dropped_once_its_config_is_known(
    webhooks: WebhookClient, store: Store
) -> None:
    answer = await webhooks.send("issues", labeled_issue("needs-triage"), delivery="d-1")
    assert answer.json()["status"] == "queued"  # not cached yet: the door admits
    job = await store.claim("worker", 60)  # its job ran (and read the config)
    assert job is not None and await store.complete(job.id, "worker")
    [cached] = _cache_defaults(store, "octo/repo")
    await cached
    answer = await webhooks.send("issues", labeled_issue("good first issue"), delivery="d-2")
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "ignored",
        "delivery": "d-2",
        "reason": "label 'good first issue' is not one of Triad's labels here",
    }
    sample = webhooks.context.metrics.registry.get_sample_value
    labels = {"event": "issues", "reason": "unrelated_label"}
    assert sample("triad_webhook_ignored_total", labels) == 1
    assert [job.payload for job in await store.list_jobs()] == [{"delivery_id": "d-1"}]
    answer = await webhooks.send("issues", labeled_issue("triad:design"), delivery="d-3")
    assert answer.json()["status"] == "queued"


@pytest.mark.parametrize(
    "text",
    ["since: 2001-13-45\n", "labels: " + "[" * 3000 + "]" * 3000 + "\n", "labels: &a [*a]\n"],
)
async def test_a_broken_config_cached_for_the_repository_is_decided_on_as_the_defaults(
    webhooks: WebhookClient, store: Store, text: str
) -> None:
    """A writer commits a `.github/triad.yml` PyYAML cannot construct: before, reading it
    raised in the door, and every delivery of the repository was answered 500, not stored."""
    await ConfigCache(store).put(CachedConfig("octo/repo", "a" * 40, text, store.clock()))
    answer = await webhooks.send("issues", labeled_issue("needs-triage"), delivery="d-1")
    assert answer.status_code == 202 and answer.json()["status"] == "ignored"
    answer = await webhooks.send("issues", labeled_issue("triad:design"), delivery="d-2")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    assert await store.count_deliveries() == 2


async def test_a_push_to_a_pull_request_just_asked_for_review_is_not_dropped(
    webhooks: WebhookClient, store: Store
) -> None:
    """The review request's job has not created the workflow yet: while a delivery of the
    repository waits for its job, the door does not trust the store's "no workflow"."""
    [cached] = _cache_defaults(store, "octo/repo")
    await cached
    pushed = _persons_pull("synchronize", before="b" * 40, after="c" * 40)
    answer = await webhooks.send("pull_request", pushed, delivery="d-0")
    assert answer.json()["status"] == "ignored"
    label = {"name": "triad:review"}
    answer = await webhooks.send("pull_request", _persons_pull("labeled", label=label))
    assert answer.json()["status"] == "queued"
    pushed = _persons_pull("synchronize", before="c" * 40, after="d" * 40)
    answer = await webhooks.send("pull_request", pushed, delivery="d-2")
    assert answer.json()["status"] == "queued"


async def test_the_public_port_serves_no_api_documentation(webhooks: WebhookClient) -> None:
    """It faces the internet for GitHub's deliveries and health checks only."""
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await webhooks.http.get(path)).status_code == 404, path
    assert (await webhooks.http.get("/healthz")).status_code == 200
