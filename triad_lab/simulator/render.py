"""GitHub's JSON shapes for the simulator's records, as REST answers and webhooks carry them.

Each shape holds every field githubkit's response models require (a test parses them all), so
the real client reads them as it reads GitHub's.
"""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from typing import Any

from triad_lab.simulator.git import CommitObject, FileChange, ObjectStore, Signature
from triad_lab.simulator.state import (
    LEGACY_PERMISSION,
    AppInfo,
    CheckRun,
    CheckSuite,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Label,
    Pull,
    Repository,
    Review,
    ReviewComment,
    User,
)

JSON = dict[str, Any]


class Urls:
    """Where things live: the API base and the (pretend) web base."""

    def __init__(self, api: str, web: str) -> None:
        self.api = api.rstrip("/")
        self.web = web.rstrip("/")

    def repo(self, repo: Repository) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_web(self, repo: Repository) -> str:
        return f"{self.web}/{repo.full_name}"


def node_id(kind: str, number: int) -> str:
    return f"{kind}_kgDO{number:08d}"


def stable_id(text: str) -> int:
    """A number for a name that is the same in every process (`hash()` is salted per process)."""
    return zlib.crc32(text.encode()) % 10**8


def encode_content(data: bytes) -> str:
    """Base64 as GitHub sends file contents: wrapped at 60 characters."""
    text = base64.b64encode(data).decode()
    return "\n".join(text[i : i + 60] for i in range(0, len(text), 60)) + "\n"


def epoch(timestamp: str) -> int:
    """Seconds since the epoch for one of the simulator's ISO 8601 UTC timestamps."""
    return int(datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def user(urls: Urls, person: User) -> JSON:
    base = f"{urls.api}/users/{person.login}"
    return {
        "login": person.login,
        "id": person.id,
        "node_id": node_id("U", person.id),
        "avatar_url": f"{urls.web}/avatars/{person.id}",
        "gravatar_id": "",
        "url": base,
        "html_url": f"{urls.web}/{person.login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": person.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def repository(urls: Urls, repo: Repository, *, full: bool = False) -> JSON:
    api, web = urls.repo(repo), urls.repo_web(repo)
    open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
    shape: JSON = {
        "id": repo.id,
        "node_id": node_id("R", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(urls, repo.owner),
        "html_url": web,
        "description": None,
        "fork": repo.fork_of is not None,
        "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_url": f"git:{web.split('://', 1)[-1]}.git",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "ssh_url": f"git@simulator:{repo.full_name}.git",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "clone_url": f"{web}.git",
        "mirror_url": None,
        "hooks_url": f"{api}/hooks",
        "svn_url": web,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": repo.created_at,
        "created_at": repo.created_at,
        "updated_at": repo.created_at,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
    }
    if full:
        shape |= {"subscribers_count": 0, "network_count": 0}
    return shape


def label(urls: Urls, repo: Repository, item: Label) -> JSON:
    return {
        "id": item.id,
        "node_id": node_id("LA", item.id),
        "url": f"{urls.repo(repo)}/labels/{item.name}",
        "name": item.name,
        "description": item.description,
        "color": item.color,
        "default": item.default,
        "archived_at": None,
        "archived_by": None,
    }


def _issue_labels(urls: Urls, repo: Repository, issue: Issue) -> list[JSON]:
    found = (repo.label(name) for name in issue.labels)
    return [label(urls, repo, item) for item in found if item is not None]


def issue(urls: Urls, repo: Repository, item: Issue) -> JSON:
    api = f"{urls.repo(repo)}/issues/{item.number}"
    kind = "pull" if item.is_pull else "issues"
    shape: JSON = {
        "url": api,
        "repository_url": urls.repo(repo),
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{urls.repo_web(repo)}/{kind}/{item.number}",
        "id": item.id,
        "node_id": node_id("I", item.id),
        "number": item.number,
        "title": item.title,
        "user": user(urls, item.user),
        "labels": _issue_labels(urls, repo, item),
        "state": item.state,
        "state_reason": None if item.state == "open" else "completed",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == item.number),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_at": item.closed_at,
        "author_association": _association(repo, item.user),
        "active_lock_reason": None,
        "body": item.body,
        "reactions": _reactions(f"{api}/reactions"),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
        "draft": False,
    }
    if item.is_pull:
        pulls = f"{urls.repo(repo)}/pulls/{item.number}"
        web = f"{urls.repo_web(repo)}/pull/{item.number}"
        shape["pull_request"] = {
            "url": pulls,
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "merged_at": None,
        }
        shape["draft"] = repo.pulls[item.number].draft
    return shape


def comment(urls: Urls, repo: Repository, item: Comment) -> JSON:
    api = f"{urls.repo(repo)}/issues/comments/{item.id}"
    return {
        "url": api,
        "html_url": f"{urls.repo_web(repo)}/issues/{item.issue_number}#issuecomment-{item.id}",
        "issue_url": f"{urls.repo(repo)}/issues/{item.issue_number}",
        "id": item.id,
        "node_id": node_id("IC", item.id),
        "user": user(urls, item.user),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "author_association": _association(repo, item.user),
        "body": item.body,
        "reactions": _reactions(f"{api}/reactions"),
        "performed_via_github_app": None,
    }


def _reactions(url: str) -> JSON:
    names = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
    return {"url": url, "total_count": 0} | dict.fromkeys(names, 0)


def _association(repo: Repository, person: User) -> str:
    if person.login == repo.owner.login:
        return "OWNER"
    if repo.collaborators.get(person.login) in {"admin", "maintain", "write"}:
        return "COLLABORATOR"
    return "NONE"


def pull(
    urls: Urls,
    repo: Repository,
    item: Issue,
    pr: Pull,
    changes: list[FileChange],
    commits: int,
    head_repo: Repository | None = None,
) -> JSON:
    """`head_repo`: the fork the head branch is in, for a PR from a fork."""
    api = f"{urls.repo(repo)}/pulls/{pr.number}"
    issue_api = f"{urls.repo(repo)}/issues/{pr.number}"
    web = f"{urls.repo_web(repo)}/pull/{pr.number}"

    def end(ref: str, sha: str, where: Repository) -> JSON:
        return {
            "label": f"{where.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": user(urls, where.owner),
            "repo": repository(urls, where),
        }

    links = {
        "self": api,
        "html": web,
        "issue": issue_api,
        "comments": f"{issue_api}/comments",
        "review_comments": f"{api}/comments",
        "review_comment": f"{urls.repo(repo)}/pulls/comments{{/number}}",
        "commits": f"{api}/commits",
        "statuses": f"{urls.repo(repo)}/statuses/{pr.head_sha}",
    }
    return {
        "url": api,
        "id": pr.id,
        "node_id": node_id("PR", pr.id),
        "html_url": web,
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "issue_url": issue_api,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": pr.number,
        "state": item.state,
        "locked": False,
        "title": item.title,
        "user": user(urls, item.user),
        "body": item.body,
        "labels": _issue_labels(urls, repo, item),
        "milestone": None,
        "active_lock_reason": None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_at": item.closed_at,
        "merged_at": pr.merged_at,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": end(pr.head_ref, pr.head_sha, head_repo or repo),
        "base": end(pr.base_ref, pr.base_sha, repo),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": _association(repo, item.user),
        "auto_merge": None,
        "draft": pr.draft,
        "merged": pr.merged,
        "mergeable": None if item.state != "open" else True,
        "rebaseable": True,
        "mergeable_state": "draft" if pr.draft else "clean",
        "merged_by": None,
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == pr.number),
        "review_comments": sum(
            1
            for c in repo.review_comments.values()
            if c.pull_number == pr.number and not repo.reviews[c.review_id].pending
        ),
        "maintainer_can_modify": False,
        "commits": commits,
        "additions": sum(c.additions for c in changes),
        "deletions": sum(c.deletions for c in changes),
        "changed_files": len(changes),
    }


def diff_entry(urls: Urls, repo: Repository, change: FileChange, head_sha: str) -> JSON:
    shape: JSON = {
        "sha": change.new_sha if change.status != "removed" else change.old_sha,
        "filename": change.path,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{urls.repo_web(repo)}/blob/{head_sha}/{change.path}",
        "raw_url": f"{urls.repo_web(repo)}/raw/{head_sha}/{change.path}",
        "contents_url": f"{urls.repo(repo)}/contents/{change.path}?ref={head_sha}",
    }
    if change.patch:
        shape["patch"] = change.patch
    return shape


def git_commit(urls: Urls, repo: Repository, commit: CommitObject) -> JSON:
    api = f"{urls.repo(repo)}/git/commits"
    return {
        "sha": commit.sha,
        "node_id": node_id("C", int(commit.sha[:8], 16)),
        "url": f"{api}/{commit.sha}",
        "html_url": f"{urls.repo_web(repo)}/commit/{commit.sha}",
        "author": _signature(commit.author),
        "committer": _signature(commit.committer),
        "message": commit.message,
        "tree": {"sha": commit.tree, "url": f"{urls.repo(repo)}/git/trees/{commit.tree}"},
        "parents": [
            {
                "sha": parent,
                "url": f"{api}/{parent}",
                "html_url": f"{urls.repo_web(repo)}/commit/{parent}",
            }
            for parent in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def commit(urls: Urls, repo: Repository, item: CommitObject, objects: ObjectStore) -> JSON:
    """The `GET /repos/{o}/{r}/commits/{ref}` shape (with its files against the first parent)."""
    git = git_commit(urls, repo, item)
    base_tree = objects.read_commit(item.parents[0]).tree if item.parents else None
    changes = objects.diff(base_tree, item.tree) if base_tree else []
    return {
        "url": f"{urls.repo(repo)}/commits/{item.sha}",
        "sha": item.sha,
        "node_id": git["node_id"],
        "html_url": git["html_url"],
        "comments_url": f"{urls.repo(repo)}/commits/{item.sha}/comments",
        "commit": {
            "url": git["url"],
            "author": git["author"],
            "committer": git["committer"],
            "message": item.message,
            "comment_count": 0,
            "tree": git["tree"],
            "verification": git["verification"],
        },
        "author": None,
        "committer": None,
        "parents": git["parents"],
        "stats": {
            "additions": sum(c.additions for c in changes),
            "deletions": sum(c.deletions for c in changes),
            "total": sum(c.additions + c.deletions for c in changes),
        },
        "files": [diff_entry(urls, repo, change, item.sha) for change in changes],
    }


def _signature(signature: Any) -> JSON:
    when = datetime.fromtimestamp(signature.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": signature.name, "email": signature.email, "date": when}


def ref(urls: Urls, repo: Repository, name: str, sha: str, kind: str = "commit") -> JSON:
    return {
        "ref": name,
        "node_id": node_id("REF", stable_id(f"{repo.id}:{name}")),
        "url": f"{urls.repo(repo)}/git/{name}",
        "object": {"type": kind, "sha": sha, "url": f"{urls.repo(repo)}/git/commits/{sha}"},
    }


def review(urls: Urls, repo: Repository, item: Review, *, webhook: bool = False) -> JSON:
    """REST answers spell the state `APPROVED`; `pull_request_review` webhooks `approved`."""
    web = f"{urls.repo_web(repo)}/pull/{item.pull_number}"
    return {
        "id": item.id,
        "node_id": node_id("PRR", item.id),
        "user": user(urls, item.user),
        "body": item.body,
        "state": item.state.lower() if webhook else item.state,
        "html_url": f"{web}#pullrequestreview-{item.id}",
        "pull_request_url": f"{urls.repo(repo)}/pulls/{item.pull_number}",
        "_links": {
            "html": {"href": f"{web}#pullrequestreview-{item.id}"},
            "pull_request": {"href": f"{urls.repo(repo)}/pulls/{item.pull_number}"},
        },
        "commit_id": item.commit_id,
        "author_association": _association(repo, item.user),
    } | ({} if item.submitted_at is None else {"submitted_at": item.submitted_at})


def review_comment(urls: Urls, repo: Repository, item: ReviewComment) -> JSON:
    api = f"{urls.repo(repo)}/pulls/comments/{item.id}"
    web = f"{urls.repo_web(repo)}/pull/{item.pull_number}#discussion_r{item.id}"
    pull_api = f"{urls.repo(repo)}/pulls/{item.pull_number}"
    return {
        "url": api,
        "pull_request_review_id": item.review_id,
        "id": item.id,
        "node_id": node_id("PRRC", item.id),
        "diff_hunk": item.diff_hunk,
        "path": item.path,
        "position": None,
        "original_position": None,
        "commit_id": item.commit_id,
        "original_commit_id": item.commit_id,
        "user": user(urls, item.user),
        "body": item.body,
        "created_at": item.created_at,
        "updated_at": item.created_at,
        "html_url": web,
        "pull_request_url": pull_api,
        "author_association": _association(repo, item.user),
        "_links": {
            "self": {"href": api},
            "html": {"href": web},
            "pull_request": {"href": pull_api},
        },
        "start_line": item.start_line,
        "original_start_line": item.start_line,
        "start_side": item.side if item.start_line else None,
        "line": item.line,
        "original_line": item.line,
        "side": item.side,
        "subject_type": "line",
        "reactions": _reactions(f"{api}/reactions"),
    }


def app(urls: Urls, info: AppInfo, created_at: str) -> JSON:
    return {
        "id": info.id,
        "slug": info.slug,
        "client_id": f"Iv1.{info.id:016x}",
        "node_id": node_id("A", info.id),
        "owner": user(urls, info.owner),
        "name": info.name,
        "description": "",
        "external_url": urls.web,
        "html_url": f"{urls.web}/apps/{info.slug}",
        "created_at": created_at,
        "updated_at": created_at,
        "permissions": dict(info.permissions),
        "events": list(info.events),
    }


def installation(urls: Urls, info: AppInfo, item: Installation, *, webhook: bool = False) -> JSON:
    """REST answers carry ISO 8601 times; `installation` webhooks carry epoch seconds."""
    created: str | int = epoch(item.created_at) if webhook else item.created_at
    return {
        "id": item.id,
        "node_id": node_id("MDIz", item.id),
        "account": user(urls, item.account),
        "repository_selection": "selected",
        "access_tokens_url": f"{urls.api}/app/installations/{item.id}/access_tokens",
        "repositories_url": f"{urls.api}/installation/repositories",
        "html_url": f"{urls.web}/settings/installations/{item.id}",
        "app_id": info.id,
        "app_slug": info.slug,
        "target_id": item.account.id,
        "target_type": item.account.type,
        "permissions": dict(info.permissions),
        "events": list(info.events),
        "created_at": created,
        "updated_at": created,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def check_app(urls: Urls, owner: User, created_at: str) -> JSON:
    """GitHub Actions, the App whose check suites the simulator's CI reports."""
    return {
        "id": 15368,
        "slug": "github-actions",
        "node_id": node_id("A", 15368),
        "owner": user(urls, owner),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": f"{urls.web}/apps/github-actions",
        "created_at": created_at,
        "updated_at": created_at,
        "permissions": {"checks": "write", "contents": "write", "metadata": "read"},
        "events": ["check_run", "check_suite", "pull_request", "push"],
    }


def _pull_refs(urls: Urls, repo: Repository, pulls: list[Pull]) -> list[JSON]:
    def end(ref_name: str, sha: str) -> JSON:
        return {
            "ref": ref_name,
            "sha": sha,
            "repo": {"id": repo.id, "url": urls.repo(repo), "name": repo.name},
        }

    return [
        {
            "id": pr.id,
            "number": pr.number,
            "url": f"{urls.repo(repo)}/pulls/{pr.number}",
            "head": end(pr.head_ref, pr.head_sha),
            "base": end(pr.base_ref, pr.base_sha),
        }
        for pr in pulls
    ]


def check_suite(
    urls: Urls,
    repo: Repository,
    suite: CheckSuite,
    head_commit: CommitObject,
    pulls: list[Pull],
    actions: JSON,
) -> JSON:
    return {
        "id": suite.id,
        "node_id": node_id("CS", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": suite.status,
        "conclusion": suite.conclusion,
        "url": f"{urls.repo(repo)}/check-suites/{suite.id}",
        "before": head_commit.parents[0] if head_commit.parents else "0" * 40,
        "after": suite.head_sha,
        "pull_requests": _pull_refs(urls, repo, pulls),
        "app": actions,
        "repository": repository(urls, repo),
        "created_at": suite.created_at,
        "updated_at": suite.updated_at,
        "rerequestable": True,
        "runs_rerequestable": False,
        "latest_check_runs_count": len(suite.run_ids),
        "check_runs_url": f"{urls.repo(repo)}/check-suites/{suite.id}/check-runs",
        "head_commit": {
            "id": head_commit.sha,
            "tree_id": head_commit.tree,
            "message": head_commit.message,
            "timestamp": _signature(head_commit.committer)["date"],
            "author": {"name": head_commit.author.name, "email": head_commit.author.email},
            "committer": {
                "name": head_commit.committer.name,
                "email": head_commit.committer.email,
            },
        },
    }


def check_run(
    urls: Urls, repo: Repository, run: CheckRun, pulls: list[Pull], actions: JSON
) -> JSON:
    api = f"{urls.repo(repo)}/check-runs/{run.id}"
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": node_id("CR", run.id),
        "external_id": (run.external_id or "") if run.app else str(run.id),
        "url": api,
        "html_url": f"{urls.repo_web(repo)}/runs/{run.id}",
        "details_url": f"{urls.web}/apps/{run.app}"
        if run.app
        else f"{urls.repo_web(repo)}/actions/runs/{run.suite_id}/job/{run.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": len(run.annotations),
            "annotations_url": f"{api}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.suite_id},
        "app": actions,
        "pull_requests": _pull_refs(urls, repo, pulls),
    }


def annotation(urls: Urls, repo: Repository, run: CheckRun, item: dict[str, Any]) -> JSON:
    return {
        "path": item.get("path", ""),
        "start_line": item.get("start_line", 1),
        "end_line": item.get("end_line", item.get("start_line", 1)),
        "start_column": None,
        "end_column": None,
        "annotation_level": item.get("annotation_level", "failure"),
        "title": item.get("title"),
        "message": item.get("message", ""),
        "raw_details": item.get("raw_details"),
        "blob_href": f"{urls.repo_web(repo)}/blob/{run.head_sha}/{item.get('path', '')}",
    }


def status(urls: Urls, repo: Repository, item: CommitStatus) -> JSON:
    return {
        "url": f"{urls.repo(repo)}/statuses/{item.sha}",
        "avatar_url": None,
        "id": item.id,
        "node_id": node_id("SC", item.id),
        "state": item.state,
        "description": item.description,
        "target_url": item.target_url,
        "context": item.context,
        "created_at": item.created_at,
        "updated_at": item.created_at,
        "creator": user(urls, item.creator),
    }


def collaborator_permission(urls: Urls, person: User, role: str) -> JSON:
    admin = role == "admin"
    push = role in {"admin", "maintain", "write"}
    shape = user(urls, person) | {
        "permissions": {
            "admin": admin,
            "maintain": role in {"admin", "maintain"},
            "push": push,
            "triage": push or role == "triage",
            "pull": role != "none",
        },
        "role_name": role,
    }
    return {"permission": LEGACY_PERMISSION[role], "role_name": role, "user": shape}


def workflow_run(
    urls: Urls,
    repo: Repository,
    suite: CheckSuite,
    suite_shape: JSON,
    actor: User,
    created_at: str,
) -> tuple[JSON, JSON]:
    """The `workflow` and `workflow_run` objects of a `workflow_run` delivery for a suite that
    GitHub Actions ran because `actor` pushed its head commit."""
    api = f"{urls.repo(repo)}/actions/runs/{suite.id}"
    workflow_id = stable_id(f"{repo.id}:{suite.workflow_name}")
    workflow_path = f".github/workflows/{suite.workflow_name.lower()}.yml"
    message = suite_shape["head_commit"]["message"]
    run = {
        "id": suite.id,
        "name": suite.workflow_name,
        "node_id": node_id("WFR", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "path": workflow_path,
        "display_title": message.splitlines()[0] if message else "",
        "run_number": len(repo.check_suites),
        "event": "pull_request" if suite_shape["pull_requests"] else "push",
        "status": "completed",
        "conclusion": suite.conclusion,
        "workflow_id": workflow_id,
        "check_suite_id": suite.id,
        "check_suite_node_id": suite_shape["node_id"],
        "url": api,
        "html_url": f"{urls.repo_web(repo)}/actions/runs/{suite.id}",
        "pull_requests": suite_shape["pull_requests"],
        "created_at": suite.created_at,
        "updated_at": suite.updated_at,
        "run_attempt": 1,
        "run_started_at": suite.created_at,
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "check_suite_url": suite_shape["url"],
        "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel",
        "rerun_url": f"{api}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{urls.repo(repo)}/actions/workflows/{workflow_id}",
        "head_commit": suite_shape["head_commit"],
        "repository": repository(urls, repo),
        "head_repository": repository(urls, repo),
        "actor": user(urls, actor),
        "triggering_actor": user(urls, actor),
    }
    workflow = {
        "id": workflow_id,
        "node_id": node_id("W", workflow_id),
        "name": suite.workflow_name,
        "path": workflow_path,
        "state": "active",
        "created_at": created_at,
        "updated_at": created_at,
        "url": f"{urls.repo(repo)}/actions/workflows/{workflow_id}",
        "html_url": f"{urls.repo_web(repo)}/blob/{repo.default_branch}/{workflow_path}",
        "badge_url": f"{urls.repo_web(repo)}/workflows/{suite.workflow_name}/badge.svg",
    }
    return workflow, run


def pushed_commit(
    urls: Urls, repo: Repository, item: CommitObject, changed: dict[str, list[str]]
) -> JSON:
    """A commit as a `push` delivery lists it, with the paths it added, removed and modified."""

    def person(who: Signature) -> JSON:
        return {"name": who.name, "email": who.email, "username": who.name}

    return {
        "id": item.sha,
        "tree_id": item.tree,
        "distinct": True,
        "message": item.message,
        "timestamp": datetime.fromtimestamp(item.committer.timestamp, UTC).isoformat(),
        "url": f"{urls.web}/{repo.full_name}/commit/{item.sha}",
        "author": person(item.author),
        "committer": person(item.committer),
        "added": changed.get("added", []),
        "removed": changed.get("removed", []),
        "modified": changed.get("modified", []),
    }
