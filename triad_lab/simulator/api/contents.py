"""Repository metadata, file contents, commits and collaborator permissions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from triad_lab.simulator import render
from triad_lab.simulator.api.common import JSON, Call, needs
from triad_lab.simulator.state import ApiError, Repository
from triad_lab.simulator.world import World

router = APIRouter()
METADATA = needs("metadata", level="read")
CONTENTS = needs("contents", level="read")


@router.get("/repos/{owner}/{name}")
def get_repo(owner: str, name: str, call: Call = METADATA) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        return render.repository(call.world.urls, repo, full=True)


@router.get("/repos/{owner}/{name}/contents/{path:path}")
def get_content(owner: str, name: str, path: str, ref: str = "", call: Call = CONTENTS) -> Any:
    with call.lock:
        world = call.world
        repo = call.repo(owner, name)
        sha = world.resolve(repo, ref or repo.default_branch)
        tree = world.objects.read_commit(sha).tree
        entries = {e.name: e for e in world.objects.walk(tree)}
        path = path.strip("/")
        if path and path not in entries:
            raise ApiError(404, "Not Found")
        if path and entries[path].type == "blob":
            entry = entries[path]
            data = world.objects.read_blob(entry.sha)
            return _content(world, repo, path, entry.sha, data, sha)
        prefix = f"{path}/" if path else ""
        return [
            _content(world, repo, full, entry.sha, None, sha)
            | {"type": "file" if entry.type == "blob" else "dir"}
            for full, entry in sorted(entries.items())
            if full.startswith(prefix) and "/" not in full[len(prefix) :]
        ]


@router.get("/repos/{owner}/{name}/commits/{ref}")
def get_commit(owner: str, name: str, ref: str, call: Call = CONTENTS) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        sha = call.world.resolve(repo, ref)
        commit = call.world.objects.read_commit(sha)
        return render.commit(call.world.urls, repo, commit, call.world.objects)


@router.get("/repos/{owner}/{name}/collaborators/{login}/permission")
def permission(owner: str, name: str, login: str, call: Call = METADATA) -> JSON:
    with call.lock:
        repo = call.repo(owner, name)
        person = call.world.users.get(login)
        if person is None:
            raise ApiError(404, "Not Found")
        role = call.world.role_of(repo, login)
        return render.collaborator_permission(call.world.urls, person, role)


def _content(
    world: World, repo: Repository, path: str, sha: str, data: bytes | None, ref_sha: str
) -> JSON:
    api_base = f"{world.urls.repo(repo)}/contents"
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
        shape |= {"content": render.encode_content(data), "encoding": "base64"}
    return shape
