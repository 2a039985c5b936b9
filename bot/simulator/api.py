"""The simulator's REST API: the endpoints Triad uses, answering as GitHub answers.

Status codes, error bodies, rate-limit headers and Link pagination follow GitHub's. An endpoint
the simulator does not implement answers 404 like GitHub and is logged (and kept in
`Simulator.unimplemented`), so a test notices a call that would fail in production.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jwt
from fastapi import Body, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from bot.simulator import render
from bot.simulator.git import ObjectMissing, full_diff
from bot.simulator.state import ApiError, Repository
from bot.simulator.world import World, encode_content

log = logging.getLogger(__name__)

DOCS = "https://docs.github.com/rest"
DIFF_MEDIA_TYPE = "application/vnd.github.diff"
RATE_LIMIT = 5000
JSON = dict[str, Any]
AnyBody = Body(default_factory=dict)


class Caller:
    """Who is calling: the App itself (a JWT) or one installation (a token)."""

    def __init__(self, kind: str, installation_id: int | None = None) -> None:
        self.kind = kind
        self.installation_id = installation_id


def create_api(sim: Any) -> FastAPI:
    """The REST app over `sim` (a `bot.simulator.server.Simulator`: world, lock, log, faults)."""
    world: World = sim.world
    api = FastAPI(title="GitHub simulator", openapi_url=None, docs_url=None, redoc_url=None)

    @api.middleware("http")
    async def around(request: Request, call_next: Callable[..., Any]) -> Response:
        fault = sim.take_fault(request.method, request.url.path)
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status:
            response: Response = JSONResponse(
                {"message": fault.message, "documentation_url": DOCS},
                status_code=fault.status,
                headers=fault.headers,
            )
        else:
            response = await call_next(request)
        caller = request.scope.get("triad.caller")
        key = caller.installation_id if caller else None
        used = sim.count_request(key)
        limits = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": f"SIM:{sim.request_count():08X}",
        }
        response.headers.update({k: v for k, v in limits.items() if k not in response.headers})
        route = getattr(request.scope.get("route"), "path", request.url.path)
        sim.record(request.method, request.url.path, response.status_code, caller, route)
        return response

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        body: JSON = {"message": exc.message, "documentation_url": DOCS, "status": str(exc.status)}
        if exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @api.exception_handler(HTTPException)
    async def unknown(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code in {404, 405}:
            sim.unimplemented.append(f"{request.method} {request.url.path}")
            log.warning(
                "simulator: endpoint not implemented",
                extra={"method": request.method, "path": request.url.path},
            )
            body = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
            return JSONResponse(body, status_code=404)
        body = {"message": str(exc.detail), "documentation_url": DOCS}
        return JSONResponse(body, status_code=exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = "Invalid request.\n\n" + "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"message": message, "documentation_url": DOCS}, status_code=422)

    # -- authentication --------------------------------------------------------------------

    def caller(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if not credential:
            raise ApiError(401, "Requires authentication")
        if credential.count(".") == 2:
            try:
                claims = jwt.decode(
                    credential,
                    sim.public_key,
                    algorithms=["RS256"],
                    options={"require": ["exp", "iat", "iss"]},
                    leeway=60,
                )
            except jwt.PyJWTError as exc:
                raise ApiError(401, f"A JSON web token could not be decoded ({exc})") from None
            if str(claims["iss"]) not in {str(world.app.id), sim.client_id}:
                raise ApiError(401, "'Issuer' claim ('iss') must be an Integer")
            if claims["exp"] - claims["iat"] > 600 + 60:
                raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
            found = Caller("app")
        else:
            token = world.tokens.get(credential)
            if token is None or token.expires_at <= world.clock():
                raise ApiError(401, "Bad credentials")
            found = Caller("installation", token.installation_id)
        request.scope["triad.caller"] = found
        return found

    def as_app(request: Request) -> None:
        if caller(request).kind != "app":
            raise ApiError(403, "A JSON web token is required to access this endpoint.", headers={})

    def repo_for(request: Request, owner: str, name: str) -> Repository:
        who = caller(request)
        repo = world.repo(f"{owner}/{name}")
        if who.kind == "app":
            raise ApiError(
                403, "A JSON web token cannot be used to access this resource; use a token."
            )
        installed = world.installations.get(who.installation_id or 0)
        if installed is None or repo.full_name not in installed.repositories:
            raise ApiError(404, "Not Found")
        return repo

    def actor() -> str:
        return world.app.bot.login

    def paged(request: Request, items: list[Any]) -> JSONResponse:
        per_page = min(max(int(request.query_params.get("per_page", 30)), 1), 100)
        page = max(int(request.query_params.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", last)):
            if (rel in {"prev", "first"} and page > 1) or (rel in {"next", "last"} and page < last):
                query = dict(request.query_params) | {"page": str(number)}
                links.append(f'<{request.url.path}?{urlencode(query)}>; rel="{rel}"')
        headers = {"link": ", ".join(links)} if links else {}
        return JSONResponse(chunk, headers=headers)

    # -- the App ---------------------------------------------------------------------------

    @api.get("/app")
    def get_app(request: Request) -> JSON:
        as_app(request)
        return render.app(world.urls, world.app, world.created_at)

    @api.get("/repos/{owner}/{name}/installation")
    def repo_installation(request: Request, owner: str, name: str) -> JSON:
        as_app(request)
        with sim.lock:
            installed = world.installation_for(world.repo(f"{owner}/{name}"))
            if installed is None:
                raise ApiError(404, "Not Found")
            return render.installation(world.urls, world.app, installed)

    @api.post("/app/installations/{installation_id}/access_tokens", status_code=201)
    def access_token(request: Request, installation_id: int, payload: JSON = AnyBody) -> JSON:
        as_app(request)
        with sim.lock:
            token = world.issue_token(installation_id)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expires_at))
        return {
            "token": token.value,
            "expires_at": expires,
            "permissions": dict(world.app.permissions),
            "repository_selection": "selected",
        }

    # -- repositories and contents ---------------------------------------------------------

    @api.get("/repos/{owner}/{name}")
    def get_repo(request: Request, owner: str, name: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            return render.repository(world.urls, repo, full=True)

    @api.get("/repos/{owner}/{name}/contents/{path:path}")
    def get_content(request: Request, owner: str, name: str, path: str, ref: str = "") -> Any:
        with sim.lock:
            repo = repo_for(request, owner, name)
            sha = world.resolve(repo, ref or repo.default_branch)
            tree = world.objects.read_commit(sha).tree
            entries = {e.name: e for e in world.objects.walk(tree)}
            path = path.strip("/")
            api_base = f"{world.urls.repo(repo)}/contents"
            if path and path not in entries:
                raise ApiError(404, "Not Found")
            if path and entries[path].type == "blob":
                entry = entries[path]
                data = world.objects.read_blob(entry.sha)
                return _content(world, repo, path, entry.sha, data, sha, api_base)
            prefix = f"{path}/" if path else ""
            listing = []
            for full, entry in sorted(entries.items()):
                if full.startswith(prefix) and "/" not in full[len(prefix) :]:
                    listing.append(
                        _content(world, repo, full, entry.sha, None, sha, api_base)
                        | {"type": "file" if entry.type == "blob" else "dir"}
                    )
            return listing

    # -- git data --------------------------------------------------------------------------

    @api.get("/repos/{owner}/{name}/git/blobs/{sha}")
    def get_blob(request: Request, owner: str, name: str, sha: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            try:
                data = world.objects.read_blob(sha)
            except ObjectMissing:
                raise ApiError(404, "Not Found") from None
            return {
                "sha": sha,
                "node_id": render.node_id("B", int(sha[:8], 16)),
                "size": len(data),
                "url": f"{world.urls.repo(repo)}/git/blobs/{sha}",
                "content": encode_content(data),
                "encoding": "base64",
            }

    @api.post("/repos/{owner}/{name}/git/blobs", status_code=201)
    def create_blob(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            content = payload.get("content")
            if not isinstance(content, str):
                raise ApiError(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
            data = (
                base64.b64decode(content)
                if payload.get("encoding") == "base64"
                else content.encode()
            )
            sha = world.objects.blob(data)
            return {"sha": sha, "url": f"{world.urls.repo(repo)}/git/blobs/{sha}"}

    @api.get("/repos/{owner}/{name}/git/trees/{ref:path}")
    def get_tree(request: Request, owner: str, name: str, ref: str, recursive: str = "") -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            tree = ref if world.objects.kind(ref) == "tree" else None
            if tree is None:
                tree = world.objects.read_commit(world.resolve(repo, ref)).tree
            entries = world.objects.walk(tree) if recursive else world.objects.read_tree(tree)
            return _tree(world, repo, tree, entries)

    @api.post("/repos/{owner}/{name}/git/trees", status_code=201)
    def create_tree(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            if not isinstance(payload.get("tree"), list):
                raise ApiError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
            sha = world.create_tree(repo.full_name, payload["tree"], payload.get("base_tree"))
            return _tree(world, repo, sha, world.objects.read_tree(sha))

    @api.get("/repos/{owner}/{name}/git/commits/{sha}")
    def get_git_commit(request: Request, owner: str, name: str, sha: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            try:
                return render.git_commit(world.urls, repo, world.objects.read_commit(sha))
            except ObjectMissing:
                raise ApiError(404, "Not Found") from None

    @api.post("/repos/{owner}/{name}/git/commits", status_code=201)
    def create_git_commit(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            for field in ("message", "tree"):
                if not isinstance(payload.get(field), str):
                    raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
            sha = world.create_commit(
                repo.full_name,
                payload["message"],
                payload["tree"],
                list(payload.get("parents") or []),
                payload.get("author"),
            )
            return render.git_commit(world.urls, repo, world.objects.read_commit(sha))

    @api.get("/repos/{owner}/{name}/git/ref/{ref:path}")
    def get_ref(request: Request, owner: str, name: str, ref: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            full = f"refs/{ref}"
            if full not in repo.refs:
                raise ApiError(404, "Not Found")
            return render.ref(world.urls, repo, full, repo.refs[full])

    @api.get("/repos/{owner}/{name}/git/matching-refs/{ref:path}")
    def matching_refs(request: Request, owner: str, name: str, ref: str) -> list[JSON]:
        with sim.lock:
            repo = repo_for(request, owner, name)
            return [
                render.ref(world.urls, repo, full, sha)
                for full, sha in sorted(repo.refs.items())
                if full.startswith(f"refs/{ref}")
            ]

    @api.post("/repos/{owner}/{name}/git/refs", status_code=201)
    def create_ref(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            ref, sha = payload.get("ref"), payload.get("sha")
            if not isinstance(ref, str) or not isinstance(sha, str):
                raise ApiError(422, 'Invalid request.\n\n"ref" and "sha" are required.')
            world.create_ref(repo.full_name, ref, sha, actor())
            return render.ref(world.urls, repo, ref, sha)

    @api.patch("/repos/{owner}/{name}/git/refs/{ref:path}")
    def update_ref(
        request: Request, owner: str, name: str, ref: str, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            if not isinstance(payload.get("sha"), str):
                raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            full = f"refs/{ref}"
            world.update_ref(
                repo.full_name,
                full,
                payload["sha"],
                force=bool(payload.get("force")),
                actor=actor(),
            )
            return render.ref(world.urls, repo, full, repo.refs[full])

    @api.delete("/repos/{owner}/{name}/git/refs/{ref:path}", status_code=204)
    def delete_ref(request: Request, owner: str, name: str, ref: str) -> Response:
        with sim.lock:
            repo = repo_for(request, owner, name)
            world.delete_ref(repo.full_name, f"refs/{ref}")
        return Response(status_code=204)

    @api.get("/repos/{owner}/{name}/commits/{ref}")
    def get_commit(request: Request, owner: str, name: str, ref: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            sha = world.resolve(repo, ref)
            return render.commit(world.urls, repo, world.objects.read_commit(sha), world.objects)

    # -- issues, comments, labels ----------------------------------------------------------

    @api.get("/repos/{owner}/{name}/issues/{number}")
    def get_issue(request: Request, owner: str, name: str, number: int) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            return render.issue(world.urls, repo, world.issue(repo.full_name, number))

    @api.post("/repos/{owner}/{name}/issues", status_code=201)
    def create_issue(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            if not isinstance(payload.get("title"), str):
                raise ApiError(422, 'Invalid request.\n\n"title" wasn\'t supplied.')
            item = world.open_issue(
                repo.full_name,
                actor(),
                payload["title"],
                payload.get("body") or "",
                list(payload.get("labels") or []),
            )
            return render.issue(world.urls, repo, item)

    @api.patch("/repos/{owner}/{name}/issues/{number}")
    def update_issue(
        request: Request, owner: str, name: str, number: int, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            item = world.edit_issue(
                repo.full_name,
                number,
                actor(),
                title=payload.get("title"),
                body=payload.get("body"),
                state=payload.get("state"),
            )
            return render.issue(world.urls, repo, item)

    @api.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(request: Request, owner: str, name: str, number: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            notes = world.comments_on(repo.full_name, number)
            return paged(request, [render.comment(world.urls, repo, n) for n in notes])

    @api.post("/repos/{owner}/{name}/issues/{number}/comments", status_code=201)
    def create_comment(
        request: Request, owner: str, name: str, number: int, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            body = payload.get("body")
            if not isinstance(body, str):
                raise ApiError(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
            if len(body) > 65536:
                raise ApiError(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                )
            note = world.comment(repo.full_name, number, actor(), body)
            return render.comment(world.urls, repo, note)

    @api.get("/repos/{owner}/{name}/issues/comments/{comment_id}")
    def get_comment(request: Request, owner: str, name: str, comment_id: int) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            return render.comment(world.urls, repo, world.find_comment(repo.full_name, comment_id))

    @api.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    def update_comment(
        request: Request, owner: str, name: str, comment_id: int, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            body = payload.get("body")
            if not isinstance(body, str):
                raise ApiError(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
            note = world.edit_comment(repo.full_name, comment_id, actor(), body)
            return render.comment(world.urls, repo, note)

    @api.get("/repos/{owner}/{name}/labels")
    def list_labels(request: Request, owner: str, name: str) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            labels = [render.label(world.urls, repo, item) for item in repo.labels.values()]
            return paged(request, labels)

    @api.get("/repos/{owner}/{name}/labels/{label_name}")
    def get_label(request: Request, owner: str, name: str, label_name: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            item = repo.label(label_name)
            if item is None:
                raise ApiError(404, "Not Found")
            return render.label(world.urls, repo, item)

    @api.post("/repos/{owner}/{name}/labels", status_code=201)
    def create_label(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            if not isinstance(payload.get("name"), str):
                raise ApiError(422, 'Invalid request.\n\n"name" wasn\'t supplied.')
            item = world.create_label(
                repo.full_name,
                payload["name"],
                payload.get("color") or "ededed",
                payload.get("description"),
            )
            return render.label(world.urls, repo, item)

    @api.post("/repos/{owner}/{name}/issues/{number}/labels")
    def add_labels(
        request: Request, owner: str, name: str, number: int, payload: Any = AnyBody
    ) -> list[JSON]:
        with sim.lock:
            repo = repo_for(request, owner, name)
            names = payload.get("labels") if isinstance(payload, dict) else payload
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ApiError(422, 'Invalid request.\n\n"labels" must be a list of names.')
            item = world.add_labels(repo.full_name, number, actor(), names)
            return render.issue(world.urls, repo, item)["labels"]

    @api.delete("/repos/{owner}/{name}/issues/{number}/labels/{label_name}")
    def remove_label(
        request: Request, owner: str, name: str, number: int, label_name: str
    ) -> list[JSON]:
        with sim.lock:
            repo = repo_for(request, owner, name)
            item = world.remove_label(repo.full_name, number, actor(), label_name)
            return render.issue(world.urls, repo, item)["labels"]

    # -- people ----------------------------------------------------------------------------

    @api.get("/repos/{owner}/{name}/collaborators/{login}/permission")
    def permission(request: Request, owner: str, name: str, login: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            person = world.users.get(login)
            if person is None:
                raise ApiError(404, "Not Found")
            role = world.role_of(repo, login)
            return render.collaborator_permission(world.urls, person, role)

    # -- pull requests and reviews ---------------------------------------------------------

    def pull_shape(repo: Repository, number: int) -> JSON:
        pr = world.pull(repo.full_name, number)
        return world._pull_shape(repo, pr)

    @api.get("/repos/{owner}/{name}/pulls")
    def list_pulls(
        request: Request, owner: str, name: str, state: str = "open", head: str = ""
    ) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            found = []
            for pr in sorted(repo.pulls.values(), key=lambda p: -p.number):
                item = repo.issues[pr.number]
                if state != "all" and item.state != state:
                    continue
                if head and head.split(":", 1)[-1] != pr.head_ref:
                    continue
                found.append(pull_shape(repo, pr.number))
            return paged(request, found)

    @api.post("/repos/{owner}/{name}/pulls", status_code=201)
    def create_pull(request: Request, owner: str, name: str, payload: JSON = AnyBody) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            for field in ("title", "head", "base"):
                if not isinstance(payload.get(field), str):
                    raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
            pr = world.open_pull(
                repo.full_name,
                actor(),
                title=payload["title"],
                head=payload["head"],
                base=payload["base"],
                body=payload.get("body"),
                draft=bool(payload.get("draft")),
            )
            return pull_shape(repo, pr.number)

    @api.get("/repos/{owner}/{name}/pulls/{number}")
    def get_pull(request: Request, owner: str, name: str, number: int) -> Any:
        with sim.lock:
            repo = repo_for(request, owner, name)
            if DIFF_MEDIA_TYPE in request.headers.get("accept", ""):
                pr = world.pull(repo.full_name, number)
                return PlainTextResponse(
                    full_diff(world.pull_changes(repo, pr)),
                    media_type="text/plain",
                    headers={"content-type": f"{DIFF_MEDIA_TYPE}; charset=utf-8"},
                )
            return pull_shape(repo, number)

    @api.patch("/repos/{owner}/{name}/pulls/{number}")
    def update_pull(
        request: Request, owner: str, name: str, number: int, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            world.update_pull(
                repo.full_name,
                number,
                actor(),
                title=payload.get("title"),
                body=payload.get("body"),
                state=payload.get("state"),
            )
            return pull_shape(repo, number)

    @api.get("/repos/{owner}/{name}/pulls/{number}/files")
    def pull_files(request: Request, owner: str, name: str, number: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            pr = world.pull(repo.full_name, number)
            files = [
                render.diff_entry(world.urls, repo, change, pr.head_sha)
                for change in world.pull_changes(repo, pr)
            ]
            return paged(request, files)

    @api.get("/repos/{owner}/{name}/pulls/{number}/commits")
    def pull_commits(request: Request, owner: str, name: str, number: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            pr = world.pull(repo.full_name, number)
            commits = [
                render.commit(world.urls, repo, item, world.objects)
                for item in world.pull_commits(pr)
            ]
            return paged(request, commits)

    @api.post("/repos/{owner}/{name}/pulls/{number}/reviews")
    def create_review(
        request: Request, owner: str, name: str, number: int, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            review = world.submit_review(
                repo.full_name,
                number,
                actor(),
                event=payload.get("event") or "COMMENT",
                body=payload.get("body") or "",
                comments=list(payload.get("comments") or []),
                commit_id=payload.get("commit_id"),
            )
            return render.review(world.urls, repo, review)

    @api.get("/repos/{owner}/{name}/pulls/{number}/reviews")
    def list_reviews(request: Request, owner: str, name: str, number: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            world.pull(repo.full_name, number)
            reviews = [
                render.review(world.urls, repo, item)
                for item in repo.reviews.values()
                if item.pull_number == number
            ]
            return paged(request, reviews)

    @api.get("/repos/{owner}/{name}/pulls/{number}/comments")
    def list_review_comments(request: Request, owner: str, name: str, number: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            world.pull(repo.full_name, number)
            notes = [
                render.review_comment(world.urls, repo, item)
                for item in repo.review_comments.values()
                if item.pull_number == number
            ]
            return paged(request, notes)

    # -- checks and statuses ---------------------------------------------------------------

    def actions_app() -> JSON:
        return render.check_app(world.urls, world.app.owner, world.created_at)

    @api.get("/repos/{owner}/{name}/commits/{ref}/check-suites")
    def check_suites(request: Request, owner: str, name: str, ref: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            sha = world.resolve(repo, ref)
            commit = world.objects.read_commit(sha)
            pulls = world.pulls_for_sha(repo, sha)
            suites = [
                render.check_suite(world.urls, repo, s, commit, pulls, actions_app())
                for s in repo.check_suites.values()
                if s.head_sha == sha
            ]
            return {"total_count": len(suites), "check_suites": suites}

    @api.get("/repos/{owner}/{name}/commits/{ref}/check-runs")
    def check_runs(request: Request, owner: str, name: str, ref: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            sha = world.resolve(repo, ref)
            pulls = world.pulls_for_sha(repo, sha)
            runs = [
                render.check_run(world.urls, repo, r, pulls, actions_app())
                for r in repo.check_runs.values()
                if r.head_sha == sha
            ]
            return {"total_count": len(runs), "check_runs": runs}

    @api.get("/repos/{owner}/{name}/check-suites/{suite_id}/check-runs")
    def suite_runs(request: Request, owner: str, name: str, suite_id: int) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            suite = repo.check_suites.get(suite_id)
            if suite is None:
                raise ApiError(404, "Not Found")
            pulls = world.pulls_for_sha(repo, suite.head_sha)
            runs = [
                render.check_run(world.urls, repo, repo.check_runs[i], pulls, actions_app())
                for i in suite.run_ids
            ]
            return {"total_count": len(runs), "check_runs": runs}

    @api.get("/repos/{owner}/{name}/check-runs/{run_id}")
    def get_check_run(request: Request, owner: str, name: str, run_id: int) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            run = repo.check_runs.get(run_id)
            if run is None:
                raise ApiError(404, "Not Found")
            pulls = world.pulls_for_sha(repo, run.head_sha)
            return render.check_run(world.urls, repo, run, pulls, actions_app())

    @api.get("/repos/{owner}/{name}/check-runs/{run_id}/annotations")
    def annotations(request: Request, owner: str, name: str, run_id: int) -> JSONResponse:
        with sim.lock:
            repo = repo_for(request, owner, name)
            run = repo.check_runs.get(run_id)
            if run is None:
                raise ApiError(404, "Not Found")
            found = [render.annotation(world.urls, repo, run, a) for a in run.annotations]
            return paged(request, found)

    @api.get("/repos/{owner}/{name}/commits/{ref}/status")
    def combined_status(request: Request, owner: str, name: str, ref: str) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            sha = world.resolve(repo, ref)
            latest: dict[str, Any] = {}
            for item in repo.statuses:
                if item.sha == sha:
                    latest[item.context] = item
            states = {s.state for s in latest.values()}
            state = (
                "failure"
                if states & {"failure", "error"}
                else "pending"
                if "pending" in states or not states
                else "success"
            )
            return {
                "state": state,
                "statuses": [render.status(world.urls, repo, s) for s in latest.values()],
                "sha": sha,
                "total_count": len(latest),
                "repository": render.repository(world.urls, repo),
                "commit_url": f"{world.urls.repo(repo)}/commits/{sha}",
                "url": f"{world.urls.repo(repo)}/commits/{sha}/status",
            }

    @api.post("/repos/{owner}/{name}/statuses/{sha}", status_code=201)
    def create_status(
        request: Request, owner: str, name: str, sha: str, payload: JSON = AnyBody
    ) -> JSON:
        with sim.lock:
            repo = repo_for(request, owner, name)
            item = world.create_status(
                repo.full_name,
                sha,
                actor(),
                state=str(payload.get("state")),
                context=payload.get("context") or "default",
                description=payload.get("description"),
                target_url=payload.get("target_url"),
            )
            return render.status(world.urls, repo, item)

    # -- GraphQL: the one mutation REST lacks ----------------------------------------------

    @api.post("/graphql")
    def graphql(request: Request, payload: JSON = AnyBody) -> JSON:
        who = caller(request)
        query = str(payload.get("query", ""))
        variables = payload.get("variables") or {}
        if "markPullRequestReadyForReview" not in query:
            sim.unimplemented.append("POST /graphql " + re.sub(r"\s+", " ", query)[:80])
            return {"errors": [{"type": "NOT_SUPPORTED", "message": "not simulated"}]}
        wanted = variables.get("id") or variables.get("pullRequestId")
        with sim.lock:
            for repo in world.repos.values():
                installed = world.installations.get(who.installation_id or 0)
                if installed is None or repo.full_name not in installed.repositories:
                    continue
                for pr in repo.pulls.values():
                    if render.node_id("PR", pr.id) == wanted:
                        world.mark_ready(repo.full_name, pr.number, actor())
                        return {
                            "data": {
                                "markPullRequestReadyForReview": {
                                    "pullRequest": {"isDraft": pr.draft, "number": pr.number}
                                }
                            }
                        }
        return {
            "data": None,
            "errors": [
                {
                    "type": "NOT_FOUND",
                    "message": f"Could not resolve to a node with the global id of '{wanted}'",
                }
            ],
        }

    return api


def _content(
    world: World,
    repo: Repository,
    path: str,
    sha: str,
    data: bytes | None,
    ref_sha: str,
    api_base: str,
) -> JSON:
    web = f"{world.urls.repo_web(repo)}/blob/{ref_sha}/{path}"
    shape: JSON = {
        "type": "file",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": len(data) if data is not None else 0,
        "url": f"{api_base}/{path}?ref={ref_sha}",
        "html_url": web,
        "git_url": f"{world.urls.repo(repo)}/git/blobs/{sha}",
        "download_url": f"{world.urls.repo_web(repo)}/raw/{ref_sha}/{path}",
        "_links": {
            "self": f"{api_base}/{path}?ref={ref_sha}",
            "git": f"{world.urls.repo(repo)}/git/blobs/{sha}",
            "html": web,
        },
    }
    if data is not None:
        shape |= {"content": encode_content(data), "encoding": "base64"}
    return shape


def _tree(world: World, repo: Repository, sha: str, entries: list[Any]) -> JSON:
    items = []
    for entry in entries:
        item: JSON = {
            "path": entry.name,
            "mode": entry.mode,
            "type": entry.type,
            "sha": entry.sha,
            "url": f"{world.urls.repo(repo)}/git/{entry.type}s/{entry.sha}",
        }
        if entry.type == "blob":
            item["size"] = len(world.objects.read_blob(entry.sha))
        items.append(item)
    return {
        "sha": sha,
        "url": f"{world.urls.repo(repo)}/git/trees/{sha}",
        "tree": items,
        "truncated": False,
    }
