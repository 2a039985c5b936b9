"""Every answer the bot reads from the simulator parses with githubkit's own response models."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from typing import Any

import pytest
from githubkit import Response
from githubkit_schemas.latest.models import (
    ContentFile,
    DiffEntry,
    Label,
    PullRequestReviewComment,
)

from bot.errors import GitHubNotFound
from bot.github.client import GitHubApp
from tests.simulator.conftest import FILES, REPO
from triad_lab.simulator.server import Simulator

OWNER, NAME = REPO.split("/")


async def parsed(call: Awaitable[Response[Any]]) -> Any:
    """Await a githubkit call and validate its body with githubkit's response model."""
    data = (await call).parsed_data
    assert data is not None
    return data


async def test_every_endpoint_parses_with_githubkit(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    me = (await app.as_app().rest.apps.async_get_authenticated()).parsed_data
    assert me is not None and me.slug == "triad"
    found = await app.as_app().rest.apps.async_get_repo_installation(OWNER, NAME)
    assert found.parsed_data.id == installation_id
    gh = app.installation(installation_id).rest

    repo = (await gh.repos.async_get(OWNER, NAME)).parsed_data
    assert repo.default_branch == "main"
    readme = (await gh.repos.async_get_content(OWNER, NAME, "README.md")).parsed_data
    assert isinstance(readme, ContentFile)
    assert base64.b64decode(readme.content).decode() == FILES["README.md"]
    listing = (await gh.repos.async_get_content(OWNER, NAME, "widgets")).parsed_data
    assert isinstance(listing, list)
    assert sorted(item.name for item in listing) == ["__init__.py", "core.py"]

    head = (await gh.git.async_get_ref(OWNER, NAME, "heads/main")).parsed_data
    commit = (await gh.git.async_get_commit(OWNER, NAME, head.object_.sha)).parsed_data
    tree = (await gh.git.async_get_tree(OWNER, NAME, commit.tree.sha, recursive="1")).parsed_data
    assert {e.path for e in tree.tree if e.type == "blob"} == set(FILES)
    blob_sha = next(e.sha for e in tree.tree if e.path == "README.md")
    blob = (await gh.git.async_get_blob(OWNER, NAME, blob_sha)).parsed_data
    assert base64.b64decode(blob.content).decode() == FILES["README.md"]

    new_blob = (await gh.git.async_create_blob(OWNER, NAME, content="x = 1\n")).parsed_data
    new_tree = (
        await gh.git.async_create_tree(
            OWNER,
            NAME,
            base_tree=commit.tree.sha,
            tree=[{"path": "widgets/x.py", "mode": "100644", "type": "blob", "sha": new_blob.sha}],
        )
    ).parsed_data
    made = (
        await gh.git.async_create_commit(
            OWNER, NAME, message="Add x", tree=new_tree.sha, parents=[head.object_.sha]
        )
    ).parsed_data
    ref = (
        await gh.git.async_create_ref(OWNER, NAME, ref="refs/heads/triad/issue-1", sha=made.sha)
    ).parsed_data
    assert ref.object_.sha == made.sha
    await parsed(gh.repos.async_get_commit(OWNER, NAME, made.sha))

    issue = (await gh.issues.async_create(OWNER, NAME, title="Add x", body="Please")).parsed_data
    await parsed(gh.issues.async_get(OWNER, NAME, issue.number))
    note = (
        await gh.issues.async_create_comment(OWNER, NAME, issue.number, body="hello")
    ).parsed_data
    await parsed(gh.issues.async_update_comment(OWNER, NAME, note.id, body="hello again"))
    await parsed(gh.issues.async_get_comment(OWNER, NAME, note.id))
    await parsed(gh.issues.async_list_comments(OWNER, NAME, issue.number))
    await parsed(gh.issues.async_create_label(OWNER, NAME, name="triad:design", color="1d76db"))
    labels = await gh.issues.async_add_labels(OWNER, NAME, issue.number, labels=["triad:design"])
    # (typed here: githubkit's `list` method shadows the builtin in its annotations, #184)
    added: list[Label] = labels.parsed_data
    assert [label.name for label in added] == ["triad:design"]
    await parsed(gh.issues.async_list_labels_for_repo(OWNER, NAME))
    await parsed(gh.issues.async_remove_label(OWNER, NAME, issue.number, "triad:design"))
    permission = (
        await gh.repos.async_get_collaborator_permission_level(OWNER, NAME, "alice")
    ).parsed_data
    assert (permission.permission, permission.role_name) == ("write", "maintain")

    pull = (
        await gh.pulls.async_create(
            OWNER,
            NAME,
            title="Add x",
            head="triad/issue-1",
            base="main",
            body="Closes #1",
            draft=True,
        )
    ).parsed_data
    assert pull.draft and pull.head.sha == made.sha and pull.changed_files == 1
    await parsed(gh.pulls.async_get(OWNER, NAME, pull.number))
    await parsed(gh.pulls.async_list(OWNER, NAME, head=f"{OWNER}:triad/issue-1"))
    await parsed(gh.pulls.async_update(OWNER, NAME, pull.number, body="Closes #1\n\nmore"))
    files: list[DiffEntry] = (await gh.pulls.async_list_files(OWNER, NAME, pull.number)).parsed_data
    assert [(f.filename, f.status, f.additions) for f in files] == [("widgets/x.py", "added", 1)]
    await parsed(gh.pulls.async_list_commits(OWNER, NAME, pull.number))
    review = (
        await gh.pulls.async_create_review(
            OWNER,
            NAME,
            pull.number,
            commit_id=made.sha,
            body="Looks right",
            event="COMMENT",
            comments=[{"path": "widgets/x.py", "line": 1, "side": "RIGHT", "body": "name?"}],
        )
    ).parsed_data
    assert review.state == "COMMENTED"
    await parsed(gh.pulls.async_list_reviews(OWNER, NAME, pull.number))
    notes: list[PullRequestReviewComment] = (
        await gh.pulls.async_list_review_comments(OWNER, NAME, pull.number)
    ).parsed_data
    assert [(n.path, n.line) for n in notes] == [("widgets/x.py", 1)]

    sim.complete_checks(
        REPO,
        made.sha,
        "failure",
        runs=[
            {
                "name": "test",
                "conclusion": "failure",
                "title": "1 failed",
                "summary": "pytest",
                "text": "E   assert 1 == 2",
                "annotations": [{"path": "widgets/x.py", "start_line": 1, "message": "boom"}],
            }
        ],
    )
    suites = (await gh.checks.async_list_suites_for_ref(OWNER, NAME, made.sha)).parsed_data
    assert suites.check_suites[0].conclusion == "failure"
    runs = (await gh.checks.async_list_for_ref(OWNER, NAME, made.sha)).parsed_data
    run = runs.check_runs[0]
    assert run.output.text == "E   assert 1 == 2"
    await parsed(gh.checks.async_get(OWNER, NAME, run.id))
    await parsed(gh.checks.async_list_for_suite(OWNER, NAME, suites.check_suites[0].id))
    noted = (await gh.checks.async_list_annotations(OWNER, NAME, run.id)).parsed_data
    assert noted[0].message == "boom"
    logs = await gh.actions.async_download_job_logs_for_workflow_run(OWNER, NAME, run.id)
    assert logs.text.endswith(" E   assert 1 == 2\n")  # after the redirect, as on GitHub
    sim.report_status(REPO, made.sha, "success", context="lint")  # CI that reports statuses
    combined = (await gh.repos.async_get_combined_status_for_ref(OWNER, NAME, made.sha)).parsed_data
    assert combined.state == "success" and combined.statuses[0].context == "lint"
    assert sim.unimplemented == [] and sim.errors == []


async def test_the_diff_media_type(sim: Simulator, app: GitHubApp, installation_id: int) -> None:
    sim.push(
        REPO, "change", "alice", {"widgets/core.py": FILES["widgets/core.py"] + "# end\n"}, "end"
    )
    pr = sim.open_pull(REPO, "alice", title="t", head="change", base="main")
    gh = app.installation(installation_id).rest
    response = await gh.pulls.async_get(
        OWNER, NAME, pr.number, headers={"Accept": "application/vnd.github.diff"}
    )
    assert response.text.startswith("diff --git a/widgets/core.py b/widgets/core.py\n")
    assert "+# end\n" in response.text


async def test_an_unknown_endpoint_answers_404_and_is_logged(
    sim: Simulator, app: GitHubApp, installation_id: int
) -> None:
    gh = app.installation(installation_id).rest
    with pytest.raises(GitHubNotFound) as caught:
        await gh.repos.async_list_branches(OWNER, NAME)
    assert (caught.value.status, caught.value.message) == (404, "Not Found")
    assert sim.unimplemented == [f"GET /repos/{REPO}/branches"]
