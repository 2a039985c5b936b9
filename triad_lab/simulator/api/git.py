"""The Git Data API: blobs, trees, commits and refs (how Triad commits without a clone)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Response

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, AnyBody, Call, needs
from triad_lab.simulator.git import ObjectMissing
from triad_lab.simulator.state import ApiError, Repository
from triad_lab.simulator.world import World

router = APIRouter()
READ = needs("contents", level="read")
WRITE = needs("contents", level="write")


@router.get("/repos/{owner}/{name}/git/blobs/{sha}")
def get_blob(owner: str, name: str, sha: str, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        try:
            data = call.world.objects.read_blob(sha)
        except ObjectMissing:
            raise ApiError(404, "Not Found") from None
        return {
            "sha": sha,
            "node_id": render.node_id("B", int(sha[:8], 16)),
            "size": len(data),
            "url": f"{call.world.urls.repo(repo)}/git/blobs/{sha}",
            "content": render.encode_content(data),
            "encoding": "base64",
        }


@router.post("/repos/{owner}/{name}/git/blobs", status_code=201)
def create_blob(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        content = payload.get("content")
        if not isinstance(content, str):
            raise ApiError(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
        try:
            data = (
                base64.b64decode(content, validate=False)
                if payload.get("encoding") == "base64"
                else content.encode()
            )
        except binascii.Error:
            raise ApiError(422, 'Invalid request.\n\n"content" is not valid base64.') from None
        sha = call.world.objects.blob(data)
        return {"sha": sha, "url": f"{call.world.urls.repo(repo)}/git/blobs/{sha}"}


@router.get("/repos/{owner}/{name}/git/trees/{ref:path}")
def get_tree(owner: str, name: str, ref: str, recursive: str = "", call: Call = READ) -> JSON:
    with call.lock:
        world = call.world
        repo = call.repo(owner, name)
        tree = ref if world.objects.kind(ref) == "tree" else None
        if tree is None:
            tree = world.objects.read_commit(world.resolve(repo, ref)).tree
        entries = world.objects.walk(tree) if recursive else world.objects.read_tree(tree)
        return _tree(world, repo, tree, entries)


@router.post("/repos/{owner}/{name}/git/trees", status_code=201)
def create_tree(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        if not isinstance(payload.get("tree"), list):
            raise ApiError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
        sha = call.world.create_tree(repo.full_name, payload["tree"], payload.get("base_tree"))
        return _tree(call.world, repo, sha, call.world.objects.read_tree(sha))


@router.get("/repos/{owner}/{name}/git/commits/{sha}")
def get_git_commit(owner: str, name: str, sha: str, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        try:
            return render.git_commit(call.world.urls, repo, call.world.objects.read_commit(sha))
        except ObjectMissing:
            raise ApiError(404, "Not Found") from None


@router.post("/repos/{owner}/{name}/git/commits", status_code=201)
def create_git_commit(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        for field in ("message", "tree"):
            if not isinstance(payload.get(field), str):
                raise ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
        sha = call.world.create_commit(
            repo.full_name,
            payload["message"],
            payload["tree"],
            list(payload.get("parents") or []),
            payload.get("author"),
            actor=call.actor,
        )
        return render.git_commit(call.world.urls, repo, call.world.objects.read_commit(sha))


@router.get("/repos/{owner}/{name}/git/ref/{ref:path}")
def get_ref(owner: str, name: str, ref: str, call: Call = READ) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        full = f"refs/{ref}"
        if full not in repo.refs:
            raise ApiError(404, "Not Found")
        return render.ref(call.world.urls, repo, full, repo.refs[full])


@router.get("/repos/{owner}/{name}/git/matching-refs/{ref:path}")
def matching_refs(owner: str, name: str, ref: str, call: Call = READ) -> list[JSON]:
    with call.lock:
        repo = call.repo(owner, name)
        return [
            render.ref(call.world.urls, repo, full, sha)
            for full, sha in sorted(repo.refs.items())
            if full.startswith(f"refs/{ref}")
        ]


@router.post("/repos/{owner}/{name}/git/refs", status_code=201)
def create_ref(owner: str, name: str, payload: JSON = AnyBody, call: Call = WRITE) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        ref, sha = payload.get("ref"), payload.get("sha")
        if not isinstance(ref, str) or not isinstance(sha, str):
            raise ApiError(422, 'Invalid request.\n\n"ref" and "sha" are required.')
        call.world.create_ref(repo.full_name, ref, sha, call.actor)
        return render.ref(call.world.urls, repo, ref, sha)


@router.patch("/repos/{owner}/{name}/git/refs/{ref:path}")
def update_ref(
    owner: str, name: str, ref: str, payload: JSON = AnyBody, call: Call = WRITE
) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        if not isinstance(payload.get("sha"), str):
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        full = f"refs/{ref}"
        force = bool(payload.get("force"))
        call.world.update_ref(repo.full_name, full, payload["sha"], call.actor, force=force)
        return render.ref(call.world.urls, repo, full, repo.refs[full])


@router.delete("/repos/{owner}/{name}/git/refs/{ref:path}", status_code=204)
def delete_ref(owner: str, name: str, ref: str, call: Call = WRITE) -> Response:
    with call.lock:
        repo = call.repo(owner, name)
        call.world.delete_ref(repo.full_name, f"refs/{ref}")
    return Response(status_code=204)


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
