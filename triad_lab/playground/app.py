"""The playground's web app: a person acts on the simulated repository through its pages.

Every action goes to the GitHub simulator's scripting API over HTTP as the chosen person
(`/_simulator/people/{login}/...`), so Triad sees the same signed webhooks a real repository
would send. The thread's live part (labels, stage, comments, the PR's diff and reviews) is
fetched again every second by a few lines of JavaScript.

Like any local page that acts, it refuses what another site makes a browser send: a post must
come from this origin, and a request must name this server as its `Host`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.store import Store
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.web.same_origin import cross_site_refusal, is_loopback
from triad_lab.playground import render
from triad_lab.playground.render import E

TRIAD_LABELS = (
    "triad:design",
    "triad:approved",
    "triad:review",
    "triad:qa-passed",
    "triad:qa-failed",
    "needs-human",
)
COOKIE = "playground-person"


@dataclass
class Playground:
    """Where the simulator and Triad's store are, and whose repository the page shows."""

    github_url: str
    repo: str
    store: Store
    default_person: str
    #: the address the page listens on: requests must name it (or a loopback name) as `Host`
    host: str = "127.0.0.1"


class _Refused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def create_playground_app(playground: Playground) -> FastAPI:
    http = httpx.AsyncClient(base_url=playground.github_url, timeout=30)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await http.aclose()

    app = FastAPI(
        title="Triad playground",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    repo = playground.repo

    @app.middleware("http")
    async def this_origin_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        name = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
        if not (is_loopback(name) or name == playground.host.strip("[]")):
            return HTMLResponse("<p>Unexpected Host.</p>", status_code=421)
        refused = cross_site_refusal(request) if request.method == "POST" else None
        if refused is not None:
            return HTMLResponse(f"<p class='error'>{E(refused)}.</p>", status_code=403)
        return await call_next(request)

    async def call(method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        answer = await http.request(method, path, json=payload)
        if answer.status_code >= 400:
            try:
                message = answer.json().get("message", answer.text)
            except ValueError:
                message = answer.text
            raise _Refused(
                f"GitHub refused it ({answer.status_code}): {message}", answer.status_code
            )
        return answer.json()

    async def form(request: Request) -> dict[str, str]:
        fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
        return {key: values[-1] for key, values in fields.items()}

    def person_of(request: Request) -> str:
        return request.cookies.get(COOKIE) or playground.default_person

    def acting(request: Request) -> str:
        return f"/_simulator/people/{quote(person_of(request), safe='')}/repos/{repo}"

    async def page(request: Request, title: str, body: str) -> HTMLResponse:
        people = (await call("GET", f"/_simulator/repos/{repo}/people"))["people"]
        error = request.query_params.get("error")
        if error:
            body = f"<p class='error' id='error'>{E(error)}</p>{body}"
        return HTMLResponse(
            render.document(title, body, repo=repo, person=person_of(request), people=people)
        )

    async def workflow(number: int, is_pull: bool) -> dict[str, Any] | None:
        flows = WorkflowStore(playground.store)
        found = None
        if not is_pull:
            found = await flows.get(repo, number)
        else:
            listed = (await call("GET", f"/_simulator/repos/{repo}/issues"))["issues"]
            for item in listed:
                if not item["is_pull"]:
                    candidate = await flows.get(repo, item["number"])
                    if candidate is not None and candidate.pr_number == number:
                        found = candidate
                        break
        if found is None:
            return None
        totals = await UsageStore(playground.store).totals(found.id or 0)
        return {
            "stage": str(found.stage),
            "issue": found.issue_number,
            "pr": found.pr_number,
            "tokens": totals.tokens,
            "cost": totals.cost,
        }

    def back(path: str, error: str | None = None) -> RedirectResponse:
        query = f"?{urlencode({'error': error})}" if error else ""
        return RedirectResponse(path + query, status_code=303)

    @app.post("/person")
    async def choose_person(request: Request) -> Response:
        chosen = (await form(request)).get("person", "")
        people = (await call("GET", f"/_simulator/repos/{repo}/people"))["people"]
        response = RedirectResponse(_back_here(request), status_code=303)
        if chosen in {person["login"] for person in people}:
            response.set_cookie(COOKIE, chosen, httponly=True, samesite="strict")
        return response

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        listed = (await call("GET", f"/_simulator/repos/{repo}/issues"))["issues"]
        rows = []
        for item in listed:
            flow = await workflow(item["number"], item["is_pull"])
            stage = f" <span class='stage'>{E(flow['stage'])}</span>" if flow else ""
            kind = "PR" if item["is_pull"] else "Issue"
            rows.append(
                f"<div class='box'><div class='text'><p>{kind} <a href='/issues/{item['number']}'>"
                f"#{item['number']} {E(item['title'])}</a> by {E(item['author'])} "
                f"{render.labels(item['labels'])}{stage}</p></div></div>"
            )
        body = (
            "<h2>Issues and pull requests</h2>"
            + ("".join(rows) or "<p>None yet: open one.</p>")
            + "<h2>Open an issue</h2><form method='post' action='/issues' class='box'>"
            "<div class='text'><p><input type='text' name='title' placeholder='Title' "
            "id='new-title' required></p><p><textarea name='body' id='new-body' "
            "placeholder='What should change, and why (Markdown)'></textarea></p>"
            "<p><button id='open-issue'>Open issue</button></p></div></form>"
        )
        return await page(request, "Issues", body)

    @app.post("/issues")
    async def open_issue(request: Request) -> Response:
        fields = await form(request)
        try:
            made = await call(
                "POST",
                f"{acting(request)}/issues",
                {"title": fields.get("title", ""), "body": fields.get("body", "")},
            )
        except _Refused as exc:
            return back("/", str(exc))
        return back(f"/issues/{made['number']}")

    async def live(number: int) -> tuple[dict[str, Any], str]:
        """The issue or PR as the simulator has it, and its live part as HTML."""
        item = await call("GET", f"/_simulator/repos/{repo}/issues/{number}")
        flow = await workflow(number, item["is_pull"])
        kind = "Pull request" if item["is_pull"] else "Issue"
        parts = [
            f"<h2 id='title'>{E(item['title'])} <small>{kind} #{number} · {E(item['state'])}"
            "</small></h2>",
            f"<div id='labels'>Labels: {render.labels(item['labels'], number) or 'none'}</div>",
            render.workflow_panel(flow),
            render.comment_box(item["author"], item["created_at"], item["body"]),
        ]
        parts += [
            render.comment_box(c["author"], c["created_at"], c["body"]) for c in item["comments"]
        ]
        pull = item.get("pull")
        if pull:
            checks = "".join(
                f"<li>{E(c['name'])}: <span class='{_tone(c['conclusion'])}'>"
                f"{E(str(c['conclusion']))}</span></li>"
                for c in pull["checks"]
            )
            parts.append(
                f"<h3>Checks on {E(pull['head_sha'][:7])}</h3><ul id='checks'>"
                f"{checks or '<li>CI has not reported on this commit yet.</li>'}</ul>"
            )
            parts.append("<h3>Reviews</h3>")
            parts += [
                render.comment_box(
                    r["author"],
                    r["submitted_at"] or "",
                    r["body"],
                    extra=f" · <b class='review-state'>{E(r['state'])}</b>",
                )
                for r in pull["reviews"]
            ] or ["<p>No reviews yet.</p>"]
            parts.append("<h3>Files changed</h3>")
            # a review comment of an earlier round names a line of an earlier commit
            current = [c for c in pull["review_comments"] if c["commit_id"] == pull["head_sha"]]
            parts.append(render.diff(pull["files"], current))
        return item, "".join(parts)

    @app.get("/issues/{number:int}/live", response_class=HTMLResponse)
    async def live_part(number: int) -> HTMLResponse:
        try:
            return HTMLResponse((await live(number))[1])
        except _Refused as exc:
            return _missing(exc)

    @app.get("/issues/{number:int}", response_class=HTMLResponse)
    async def thread(request: Request, number: int) -> HTMLResponse:
        try:
            item, content = await live(number)
        except _Refused as exc:
            return _missing(exc)
        known = (await call("GET", f"/_simulator/repos/{repo}/issues"))["labels"]
        names = "".join(f"<option value='{E(n)}'>" for n in dict.fromkeys([*TRIAD_LABELS, *known]))
        is_pull = bool(item["is_pull"])
        ci = (
            f"<form method='post' action='/issues/{number}/ci' class='box'><div class='text'>"
            "<p><b>CI</b> (GitHub Actions) on the PR's head commit</p>"
            "<p><textarea name='log' id='ci-log' placeholder='the job log (pytest output…)'>"
            "</textarea></p><p><button name='conclusion' value='success' id='ci-pass'>"
            "CI passed</button> <button name='conclusion' value='failure' id='ci-fail'>"
            "CI failed</button></p></div></form>"
            if is_pull
            else ""
        )
        body = (
            f"<div id='live' data-url='/issues/{number}/live'>{content}</div>"
            "<nav class='actions'>"
            f"<form method='post' action='/issues/{number}/labels'><input type='text' "
            "name='name' list='label-names' id='label-name' placeholder='label, e.g. "
            f"triad:design'><datalist id='label-names'>{names}</datalist> "
            "<button id='add-label'>Add label</button></form></nav>"
            f"<form method='post' action='/issues/{number}/comments' class='box'>"
            "<div class='text'><p><textarea name='body' id='comment-body' placeholder="
            "'Leave a comment (Markdown; /triad commands work here)'></textarea></p>"
            "<p><button id='comment'>Comment</button></p></div></form>"
            f"{ci}<script>{render.LIVE_SCRIPT}</script>"
        )
        return await page(request, f"#{number}", body)

    @app.post("/issues/{number:int}/comments")
    async def comment(request: Request, number: int) -> Response:
        text = (await form(request)).get("body", "")
        try:
            await call("POST", f"{acting(request)}/issues/{number}/comments", {"body": text})
        except _Refused as exc:
            return back(f"/issues/{number}", str(exc))
        return back(f"/issues/{number}")

    @app.post("/issues/{number:int}/labels")
    async def add_label(request: Request, number: int) -> Response:
        name = (await form(request)).get("name", "")
        try:
            await call("POST", f"{acting(request)}/issues/{number}/labels", {"name": name})
        except _Refused as exc:
            return back(f"/issues/{number}", str(exc))
        return back(f"/issues/{number}")

    @app.post("/issues/{number:int}/labels/remove")
    async def remove_label(request: Request, number: int) -> Response:
        name = (await form(request)).get("name", "")
        try:
            await call("DELETE", f"{acting(request)}/issues/{number}/labels/{quote(name)}")
        except _Refused as exc:
            return back(f"/issues/{number}", str(exc))
        return back(f"/issues/{number}")

    @app.post("/issues/{number:int}/ci")
    async def ci(request: Request, number: int) -> Response:
        fields = await form(request)
        payload = {"conclusion": fields.get("conclusion", ""), "log": fields.get("log", "")}
        try:
            await call("POST", f"/_simulator/repos/{repo}/pulls/{number}/ci", payload)
        except _Refused as exc:
            return back(f"/issues/{number}", str(exc))
        return back(f"/issues/{number}")

    return app


def _missing(refused: _Refused) -> HTMLResponse:
    if refused.status == 404:
        return HTMLResponse("<p>No such issue.</p>", status_code=404)
    return HTMLResponse(f"<p class='error'>{E(str(refused))}</p>", status_code=502)


def _back_here(request: Request) -> str:
    """Where the page that posted was (its path on this site), never another site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.headers.get("host") or not referer.path.startswith("/"):
        return "/"
    path = "/" + referer.path.lstrip("/")  # `//elsewhere` would leave this site
    return f"{path}?{referer.query}" if referer.query else path


def _tone(conclusion: str | None) -> str:
    return "ok" if conclusion == "success" else "bad"
