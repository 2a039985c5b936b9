"""Pull requests, their files, commits and diff, and reviews with inline comments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs, within_limit
from triad_lab.simulator.git import full_diff
from triad_lab.simulator.state import ApiError

router = APIRouter()
READ = needs("pull_requests", level="read")
CONTENTS = needs("contents", level="read")
WRITE = needs("pull_requests", level="write")
#: merging writes the base branch: GitHub asks for contents write
MERGE = needs("contents", level="write")
DIFF_MEDIA_TYPE = "application/vnd.github.diff"


@router.get("/repos/{owner}/{name}/pulls")
def list_pulls(
    owner: str, name: str, state: str = "open", head: str = "", call: Call = READ
) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        found = []
        for pr in sorted(repo.pulls.values(), key=lambda p: -p.number):
            item = repo.issues[pr.number]
            if state != "all" and item.state != state:
                continue
            owner_part, _, branch = head.rpartition(":")
            head_owner = (pr.head_repo or repo.full_name).split("/")[0]
            if head and (branch != pr.head_ref or owner_part not in ("", head_owner)):
                continue
            found.append(call.world.pull_shape(repo, pr))
        return call.paged(found)


@router.post("/repos/{owner}/{name}/pulls", status_code=201)
def create_pull(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        for field in ("title", "head", "base"):
            if not isinstance(payload.get(field), str):
                raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
        pr = call.world.open_pull(
            repo.full_name,
            call.actor,
            title=payload["title"],
            head=payload["head"],
            base=payload["base"],
            body=_pull_body(payload),
            draft=bool(payload.get("draft")),
        )
        return call.world.pull_shape(repo, pr)


@router.get("/repos/{owner}/{name}/pulls/{number:int}")
def get_pull(owner: str, name: str, number: int, call: Call = READ) -> Any:
    with call.lock:
        repo = call.repo(owner, name)
        pr = call.world.pull(repo.full_name, number)
        if DIFF_MEDIA_TYPE in call.request.headers.get("accept", ""):
            return PlainTextResponse(
                full_diff(call.world.pull_changes(repo, pr)),
                media_type="text/plain",
                headers={"content-type": f"{DIFF_MEDIA_TYPE}; charset=utf-8"},
            )
        return call.world.pull_shape(repo, pr)


@router.patch("/repos/{owner}/{name}/pulls/{number:int}")
def update_pull(
    owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        pr = call.world.update_pull(
            repo.full_name,
            number,
            call.actor,
            title=payload.get("title"),
            body=_pull_body(payload),
            state=payload.get("state"),
        )
        return call.world.pull_shape(repo, pr)


@router.put("/repos/{owner}/{name}/pulls/{number:int}/merge")
def merge_pull(
    owner: str,
    name: str,
    number: int,
    payload: JSON = AnyBody,
    call: Call = MERGE,
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        sha = call.world.merge_pull(repo.full_name, number, call.actor, sha=payload.get("sha"))
        return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


@router.get("/repos/{owner}/{name}/compare/{basehead}")
def compare(owner: str, name: str, basehead: str, call: Call = CONTENTS) -> Any:
    """Two commits compared from their merge base (`base...head`): the diff, or its files."""
    with call.lock:
        world, repo = call.world, call.repo(owner, name)
        base, separator, head = basehead.partition("...")
        if not separator:
            raise ApiError(404, "Not Found")
        base_sha, head_sha = world.resolve(repo, base), world.resolve(repo, head)
        merge_base = world.objects.merge_base(base_sha, head_sha)
        if merge_base is None:
            raise ApiError(404, f"No common ancestor between {base} and {head}.")
        changes = world.objects.diff(
            world.objects.read_commit(merge_base).tree, world.objects.read_commit(head_sha).tree
        )
        if DIFF_MEDIA_TYPE in call.request.headers.get("accept", ""):
            return PlainTextResponse(
                full_diff(changes),
                media_type="text/plain",
                headers={"content-type": f"{DIFF_MEDIA_TYPE}; charset=utf-8"},
            )
        ahead = len(world.objects.history(head_sha, merge_base))
        behind = len(world.objects.history(base_sha, merge_base))
        status = "identical" if base_sha == head_sha else "ahead" if not behind else "diverged"
        return {
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": ahead,
            "files": [render.diff_entry(world.urls, repo, c, head_sha) for c in changes],
        }


@router.get("/repos/{owner}/{name}/pulls/{number:int}/files")
def pull_files(owner: str, name: str, number: int, call: Call = READ) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        pr = call.world.pull(repo.full_name, number)
        return call.paged(
            [
                render.diff_entry(call.world.urls, repo, change, pr.head_sha)
                for change in call.world.pull_changes(repo, pr)
            ]
        )


@router.get("/repos/{owner}/{name}/pulls/{number:int}/commits")
def pull_commits(owner: str, name: str, number: int, call: Call = READ) -> JSONResponse:
    with call.lock:
        repo = call.repo(owner, name)
        pr = call.world.pull(repo.full_name, number)
        return call.paged(
            [
                render.commit(call.world.urls, repo, item, call.world.objects)
                for item in call.world.pull_commits(pr)
            ]
        )


@router.post("/repos/{owner}/{name}/pulls/{number:int}/reviews")
def create_review(
    owner: str, name: str, number: int, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        event = payload.get("event")
        if event is not None and not isinstance(event, str):
            raise ApiError(422, 'Invalid request.\n\n"event" must be a string.')
        comments = list(payload.get("comments") or [])
        for comment in comments:
            if isinstance(comment, dict) and isinstance(comment.get("body"), str):
                within_limit(comment["body"], "PullRequestReviewComment")
        review = call.world.submit_review(
            repo.full_name,
            number,
            call.actor,
            event=event or None,
            body=_review_body(payload),
            comments=comments,
            commit_id=payload.get("commit_id"),
        )
        return render.review(call.world.urls, repo, review)


@router.get("/repos/{owner}/{name}/pulls/{number:int}/reviews")
def list_reviews(owner: str, name: str, number: int, call: Call = READ) -> JSONResponse:
    """A pending review is listed to its author only (the App sees its own drafts)."""
    with call.lock:
        repo = call.repo(owner, name)
        call.world.pull(repo.full_name, number)
        return call.paged(
            [
                render.review(call.world.urls, repo, item)
                for item in repo.reviews.values()
                if item.pull_number == number
                and (not item.pending or item.user.login == call.actor)
            ]
        )


@router.get("/repos/{owner}/{name}/pulls/{number:int}/comments")
def list_review_comments(owner: str, name: str, number: int, call: Call = READ) -> JSONResponse:
    """Comments of pending reviews are not published yet, so not listed."""
    with call.lock:
        repo = call.repo(owner, name)
        call.world.pull(repo.full_name, number)
        return call.paged(
            [
                render.review_comment(call.world.urls, repo, item)
                for item in repo.review_comments.values()
                if item.pull_number == number and not repo.reviews[item.review_id].pending
            ]
        )


def _pull_body(payload: JSON) -> str | None:
    body = payload.get("body")
    return within_limit(body, "PullRequest") if isinstance(body, str) else body


def _review_body(payload: JSON) -> str:
    body = payload.get("body") or ""
    if not isinstance(body, str):
        raise ApiError(422, 'Invalid request.\n\n"body" must be a string.')
    return within_limit(body, "PullRequestReview")
