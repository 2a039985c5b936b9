"""Trees are built, and refused, as GitHub's Git Data API builds and refuses them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.simulator.conftest import FILES, REPO, as_installation, token_for
from triad_lab.simulator.server import Simulator


@pytest.fixture
def http(sim: Simulator, installation_id: int) -> Iterator[httpx.Client]:
    with as_installation(sim, token_for(sim, installation_id)) as client:
        yield client


def base_tree(http: httpx.Client) -> str:
    head = http.get(f"/repos/{REPO}/git/ref/heads/main").json()["object"]["sha"]
    tree: str = http.get(f"/repos/{REPO}/git/commits/{head}").json()["tree"]["sha"]
    return tree


def create(http: httpx.Client, *entries: dict[str, Any], base: bool = True) -> httpx.Response:
    payload: dict[str, Any] = {"tree": list(entries)}
    if base:
        payload["base_tree"] = base_tree(http)
    return http.post(f"/repos/{REPO}/git/trees", json=payload)


def paths(http: httpx.Client, tree: str) -> set[str]:
    listing = http.get(f"/repos/{REPO}/git/trees/{tree}", params={"recursive": "1"}).json()
    return {e["path"] for e in listing["tree"] if e["type"] == "blob"}


def test_only_an_explicit_null_sha_deletes(http: httpx.Client) -> None:
    neither = create(http, {"path": "README.md", "mode": "100644", "type": "blob"})
    assert neither.status_code == 422
    deleted = create(http, {"path": "README.md", "mode": "100644", "type": "blob", "sha": None})
    assert deleted.status_code == 201
    assert paths(http, deleted.json()["sha"]) == set(FILES) - {"README.md"}


def test_deleting_a_missing_path_is_refused(http: httpx.Client) -> None:
    assert create(http, {"path": "nope.txt", "mode": "100644", "sha": None}).status_code == 422


@pytest.mark.parametrize(
    "entry",
    [
        {"path": "widgets", "mode": "100644", "type": "blob", "content": "x"},  # over a dir
        {"path": "README.md/inner.txt", "mode": "100644", "content": "x"},  # under a file
    ],
)
def test_a_file_cannot_replace_a_directory_or_sit_under_a_file(
    http: httpx.Client, entry: dict[str, Any]
) -> None:
    answer = create(http, entry)
    assert answer.status_code == 422, answer.text


def test_a_path_can_change_kind_once_the_old_entry_is_deleted(http: httpx.Client) -> None:
    answer = create(
        http,
        {"path": "README.md", "mode": "100644", "sha": None},
        {"path": "README.md/index.md", "mode": "100644", "content": "# Widgets\n"},
    )
    assert answer.status_code == 201
    assert "README.md/index.md" in paths(http, answer.json()["sha"])


@pytest.mark.parametrize("mode", ["100644", "100755", "120000"])
def test_file_modes_are_kept(http: httpx.Client, mode: str) -> None:
    answer = create(http, {"path": "bin/run", "mode": mode, "type": "blob", "content": "x"})
    assert answer.status_code == 201
    bin_tree = next(e for e in answer.json()["tree"] if e["path"] == "bin")["sha"]
    listing = http.get(f"/repos/{REPO}/git/trees/{bin_tree}").json()["tree"]
    assert [(e["path"], e["mode"]) for e in listing] == [("run", mode)]


@pytest.mark.parametrize("mode", ["100664", "160000", "644", "040755"])
def test_other_modes_are_refused(http: httpx.Client, mode: str) -> None:
    answer = create(http, {"path": "x", "mode": mode, "content": "x"})
    assert answer.status_code == 422


def test_a_subtree_by_sha_replaces_a_directory(http: httpx.Client) -> None:
    listing = http.get(f"/repos/{REPO}/git/trees/{base_tree(http)}").json()["tree"]
    tests_tree = next(e["sha"] for e in listing if e["path"] == "tests")
    answer = create(http, {"path": "widgets", "mode": "040000", "type": "tree", "sha": tests_tree})
    assert answer.status_code == 201
    assert paths(http, answer.json()["sha"]) == {
        "README.md",
        "tests/test_core.py",
        "widgets/test_core.py",
    }
    whole_tree = {"path": "w2", "mode": "040000", "type": "tree", "sha": answer.json()["sha"]}
    assert create(http, whole_tree).status_code == 201
    readme = next(e["sha"] for e in listing if e["path"] == "README.md")
    wrong_kind = {"path": "w3", "mode": "040000", "type": "tree", "sha": readme}
    assert create(http, wrong_kind).status_code == 422


def test_type_must_agree_with_mode(http: httpx.Client) -> None:
    entry = {"path": "x", "mode": "100644", "type": "tree", "content": "x"}
    assert create(http, entry).status_code == 422


def test_sha_and_content_together_are_refused(http: httpx.Client) -> None:
    blob = http.post(f"/repos/{REPO}/git/blobs", json={"content": "x"}).json()["sha"]
    entry = {"path": "x", "mode": "100644", "sha": blob, "content": "y"}
    assert create(http, entry).status_code == 422


def test_a_base_tree_that_is_not_a_tree_is_refused(http: httpx.Client) -> None:
    answer = http.post(
        f"/repos/{REPO}/git/trees",
        json={"base_tree": "0" * 40, "tree": [{"path": "a", "mode": "100644", "content": "a"}]},
    )
    assert (answer.status_code, answer.json()["message"]) == (
        422,
        "base_tree is not a valid tree oid",
    )
