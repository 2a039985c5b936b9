"""The simulator's state and every change GitHub would make to it, with the webhooks it sends.

One `World` holds the App, its installations and their repositories. Every change goes through
a method here, made by an actor (a person, CI, or the App's bot user); each change that GitHub
announces calls `emit(event, payload)` with the delivery GitHub would send. The REST API
(`triad_lab.simulator.api`) and the scripting API (`triad_lab.simulator.server`) both call these
methods, under the server's lock.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from triad_lab.simulator import render, trees
from triad_lab.simulator.check_rules import SEVERITY, apply_check_body, check_state
from triad_lab.simulator.git import (
    BLOB_MODE,
    FileChange,
    ObjectMissing,
    ObjectStore,
    Signature,
    hunk_for,
)
from triad_lab.simulator.state import (
    ROLES,
    ApiError,
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
    Token,
    User,
    invalid,
)

Emit = Callable[[str, dict[str, Any]], None]
JSON = dict[str, Any]

TOKEN_LIFETIME = 3600.0
DEFAULT_EVENTS = (
    "status",
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_review",
    "check_suite",
    "check_run",
    "workflow_run",
    "push",
)
#: what Triad's app.yml grants
DEFAULT_PERMISSIONS = {
    "contents": "write",
    "issues": "write",
    "pull_requests": "write",
    "checks": "write",
    "statuses": "read",
    "actions": "read",
    "metadata": "read",
}


class World:
    """Everything GitHub would hold for the App, and every change GitHub would make to it.

    Not thread-safe on purpose: the server serialises callers with one lock, so a change and
    the webhook it sends happen together, in order. `clock` is GitHub's clock (timestamps, token
    and JWT expiry); tests pass their own to move time.
    """

    def __init__(
        self,
        *,
        app_id: int = 1,
        app_slug: str = "triad",
        events: tuple[str, ...] = DEFAULT_EVENTS,
        permissions: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        urls: render.Urls | None = None,
    ) -> None:
        self.clock = clock
        #: how long an installation token lasts (GitHub: an hour)
        self.token_lifetime = TOKEN_LIFETIME
        self.urls = urls or render.Urls("http://127.0.0.1", "http://127.0.0.1")
        self.objects = ObjectStore()
        self._next_id = 1000
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repository] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.emit: Emit = lambda _event, _payload: None
        owner = self.user("triad-dev", "Organization")
        bot = self.user(f"{app_slug}[bot]", "Bot")
        self.app = AppInfo(
            id=app_id,
            slug=app_slug,
            name=app_slug.capitalize(),
            owner=owner,
            bot=bot,
            events=events,
            permissions=dict(DEFAULT_PERMISSIONS if permissions is None else permissions),
        )
        self.created_at = self.now()

    # -- basics ----------------------------------------------------------------------------

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def now(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def user(self, login: str, kind: str = "User") -> User:
        """The user with that login, created on first mention."""
        found = self.users.get(login)
        if found is None:
            found = User(self.new_id(), login, kind)
            self.users[login] = found
        return found

    def repo(self, full_name: str) -> Repository:
        found = self.repos.get(full_name.lower())
        if found is None:
            raise ApiError(404, "Not Found")
        return found

    def installation_for(self, repo: Repository) -> Installation | None:
        for item in self.installations.values():
            if repo.full_name in item.repositories:
                return item
        return None

    # -- set-up (as an administrator would) ------------------------------------------------

    def create_repository(
        self,
        full_name: str,
        files: dict[str, str],
        *,
        default_branch: str = "main",
        collaborators: dict[str, str] | None = None,
    ) -> Repository:
        owner_login, name = full_name.split("/", 1)
        owner = self.user(owner_login)
        repo = Repository(self.new_id(), owner, name, default_branch, self.now())
        self.repos[full_name.lower()] = repo
        repo.collaborators[owner.login] = "admin"
        for login, role in (collaborators or {}).items():
            self.set_permission(full_name, login, role)
        tree = self._tree_from_files(files)
        sha = self.objects.commit(tree, [], "Initial commit", self._signature(owner))
        repo.refs[f"refs/heads/{default_branch}"] = sha  # created with it: no push
        repo.pushers[(f"refs/heads/{default_branch}", sha)] = owner.login
        return repo

    def fork(self, full_name: str, owner_login: str) -> Repository:
        """`owner_login`'s fork of a repository: its branches as they are now, nothing else
        (the App is not installed on it)."""
        parent, owner = self.repo(full_name), self.user(owner_login)
        name = f"{owner.login}/{parent.name}"
        if name.lower() in self.repos:
            raise ApiError(422, "Validation Failed", [{"message": "the fork exists"}])
        repo = Repository(
            self.new_id(), owner, parent.name, parent.default_branch, self.now(), private=False
        )
        repo.fork_of = parent.full_name
        repo.collaborators[owner.login] = "admin"
        for ref, sha in parent.refs.items():
            if ref.startswith("refs/heads/"):
                self._move_ref(repo, ref, sha, owner.login)
        self.repos[name.lower()] = repo
        return repo

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        if role not in (*ROLES, "none"):
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}, none")
        repo = self.repo(full_name)
        self.user(login)
        if role == "none":
            repo.collaborators.pop(login, None)
        else:
            repo.collaborators[login] = role

    def install(self, account: str, repositories: list[str], sender: str | None = None) -> int:
        """Install the App on repositories; GitHub announces it with `installation.created`."""
        owner = self.user(account)
        item = Installation(
            self.new_id(), owner, [self.repo(r).full_name for r in repositories], self.now()
        )
        self.installations[item.id] = item
        payload = {
            "action": "created",
            "installation": render.installation(self.urls, self.app, item, webhook=True),
            "repositories": [
                {
                    "id": self.repo(r).id,
                    "node_id": render.node_id("R", self.repo(r).id),
                    "name": self.repo(r).name,
                    "full_name": self.repo(r).full_name,
                    "private": self.repo(r).private,
                }
                for r in item.repositories
            ],
            "requester": None,
            "sender": render.user(self.urls, self.user(sender or account)),
        }
        self.emit("installation", payload)
        return item.id

    # -- tokens ----------------------------------------------------------------------------

    def issue_token(self, installation_id: int, permissions: dict[str, str] | None = None) -> Token:
        """An installation access token: an hour on `clock`, with the App's permissions or the
        subset of them asked for (asking for more is refused, as GitHub does)."""
        if installation_id not in self.installations:
            raise ApiError(404, "Not Found")
        granted = dict(self.app.permissions)
        if permissions is not None:
            levels = {"read": 1, "write": 2, "admin": 3}
            for resource, level in permissions.items():
                if levels.get(level, 9) > levels.get(granted.get(resource, ""), 0):
                    raise ApiError(
                        422, "The permissions requested are not granted to this installation."
                    )
            granted = dict(permissions)
        token = Token(
            f"ghs_{secrets.token_hex(18)}",
            installation_id,
            self.clock() + self.token_lifetime,
            granted,
        )
        self.tokens[token.value] = token
        return token

    # -- permissions -----------------------------------------------------------------------

    def role_of(self, repo: Repository, login: str) -> str:
        return repo.collaborators.get(login, "none")

    # -- issues and comments ---------------------------------------------------------------

    def open_issue(
        self, full_name: str, actor: str, title: str, body: str = "", labels: Sequence[str] = ()
    ) -> Issue:
        repo, person = self.repo(full_name), self.user(actor)
        now = self.now()
        item = Issue(self.new_id(), repo.next_number, title, body, person, now, now)
        repo.next_number += 1
        repo.issues[item.number] = item
        for name in labels:
            item.labels.append(self._label_for(repo, name).name)
        self._announce_issue(repo, item, "opened", person)
        return item

    def issue(self, full_name: str, number: int) -> Issue:
        item = self.repo(full_name).issues.get(number)
        if item is None:
            raise ApiError(404, "Not Found")
        return item

    def edit_issue(
        self,
        full_name: str,
        number: int,
        actor: str,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Issue:
        repo, item, person = self.repo(full_name), self.issue(full_name, number), self.user(actor)
        if state is not None and state not in {"open", "closed"}:
            raise invalid("Issue", "state", "invalid")
        changes: JSON = {}
        if title is not None and title != item.title:
            changes["title"] = {"from": item.title}
            item.title = title
        if body is not None and body != item.body:
            changes["body"] = {"from": item.body or ""}
            item.body = body
        if changes:
            item.updated_at = self.now()
            self._announce_issue(repo, item, "edited", person, changes=changes)
        if state is not None and state != item.state:
            item.state = state
            item.closed_at = self.now() if state == "closed" else None
            item.updated_at = self.now()
            self._announce_issue(repo, item, "closed" if state == "closed" else "reopened", person)
        return item

    def comment(self, full_name: str, number: int, actor: str, body: str) -> Comment:
        repo, item, person = self.repo(full_name), self.issue(full_name, number), self.user(actor)
        if not body.strip():
            raise invalid("IssueComment", "body", "missing_field")
        now = self.now()
        note = Comment(self.new_id(), number, person, body, now, now)
        repo.comments[note.id] = note
        self._announce_comment(repo, item, note, "created", person)
        return note

    def find_comment(self, full_name: str, comment_id: int) -> Comment:
        note = self.repo(full_name).comments.get(comment_id)
        if note is None:
            raise ApiError(404, "Not Found")
        return note

    def edit_comment(self, full_name: str, comment_id: int, actor: str, body: str) -> Comment:
        repo, note = self.repo(full_name), self.find_comment(full_name, comment_id)
        person = self.user(actor)
        if body != note.body:
            previous = note.body
            note.body = body
            note.updated_at = self.now()
            item = repo.issues[note.issue_number]
            changes = {"body": {"from": previous}}
            self._announce_comment(repo, item, note, "edited", person, changes=changes)
        return note

    def comments_on(self, full_name: str, number: int) -> list[Comment]:
        self.issue(full_name, number)
        repo = self.repo(full_name)
        return [c for c in repo.comments.values() if c.issue_number == number]

    # -- labels ----------------------------------------------------------------------------

    def create_label(
        self, full_name: str, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        repo = self.repo(full_name)
        if repo.label(name) is not None:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color or ""):
            raise invalid("Label", "color", "invalid")
        item = Label(self.new_id(), name, color.lower(), description)
        repo.labels[name.lower()] = item
        return item

    def _label_for(self, repo: Repository, name: str) -> Label:
        return repo.label(name) or self.create_label(repo.full_name, name)

    def add_labels(self, full_name: str, number: int, actor: str, names: list[str]) -> Issue:
        """Labels missing on the repository are created, as GitHub does."""
        repo, item, person = self.repo(full_name), self.issue(full_name, number), self.user(actor)
        for name in names:
            known = self._label_for(repo, name)
            if known.name in item.labels:
                continue
            item.labels.append(known.name)
            item.updated_at = self.now()
            self._announce_issue(repo, item, "labeled", person, label=known)
        return item

    def remove_label(self, full_name: str, number: int, actor: str, name: str) -> Issue:
        repo, item, person = self.repo(full_name), self.issue(full_name, number), self.user(actor)
        known = repo.label(name)
        if known is None or known.name not in item.labels:
            raise ApiError(404, "Label does not exist")
        item.labels.remove(known.name)
        item.updated_at = self.now()
        self._announce_issue(repo, item, "unlabeled", person, label=known)
        return item

    # -- git data --------------------------------------------------------------------------

    def create_tree(self, full_name: str, entries: list[Any], base_tree: str | None = None) -> str:
        """A tree from `base_tree` changed by `entries`, refused (422) as GitHub refuses it.

        Each entry names its content (`content`, or the `sha` of a blob, or of a tree for mode
        040000); only an explicit `"sha": null` deletes. A file cannot be written where a
        directory is, nor under a file.
        """
        self.repo(full_name)
        files: trees.Files = {}
        if base_tree:
            try:
                files = {p: (e.mode, e.sha) for p, e in self.objects.flatten(base_tree).items()}
            except ObjectMissing:
                raise ApiError(422, "base_tree is not a valid tree oid") from None
        for entry in entries:
            files = trees.apply_entry(self.objects, files, entry)
        return self.objects.build_tree(files)

    def create_commit(
        self,
        full_name: str,
        message: str,
        tree: str,
        parents: list[str],
        author: JSON | None = None,
        actor: str | None = None,
    ) -> str:
        self.repo(full_name)
        who = self._signature(self.user(actor) if actor else self.app.bot)
        if author:
            who = Signature(
                author.get("name", who.name), author.get("email", who.email), who.timestamp
            )
        try:
            return self.objects.commit(tree, parents, message, who)
        except ObjectMissing as exc:
            raise ApiError(422, f"Object does not exist: {exc.args[0]}") from None

    def resolve(self, repo: Repository, ref: str) -> str:
        """A branch name, a full ref, a SHA or `HEAD` (the default branch, as GitHub reads it)
        → a commit SHA (404 if none)."""
        if ref == "HEAD":
            ref = f"refs/heads/{repo.default_branch}"
        for name in (ref, f"refs/heads/{ref}", f"refs/{ref}"):
            if name in repo.refs:
                return repo.refs[name]
        if re.fullmatch(r"[0-9a-f]{40}", ref) and self.objects.kind(ref) == "commit":
            return ref
        raise ApiError(404, "No commit found for the ref " + ref)

    def create_ref(self, full_name: str, ref: str, sha: str, actor: str) -> None:
        repo = self.repo(full_name)
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(422, "Reference name must start with 'refs/' and have two slashes")
        if ref in repo.refs:
            raise ApiError(422, "Reference already exists")
        if self.objects.kind(sha) != "commit":
            raise ApiError(422, "Object does not exist")
        self._move_ref(repo, ref, sha, actor)

    def update_ref(
        self, full_name: str, ref: str, sha: str, actor: str, *, force: bool = False
    ) -> None:
        repo = self.repo(full_name)
        if ref not in repo.refs:
            raise ApiError(422, "Reference does not exist")
        if self.objects.kind(sha) != "commit":
            raise ApiError(422, "Object does not exist")
        old = repo.refs[ref]
        if old == sha:
            return
        if not force and not self.objects.is_ancestor(old, sha):
            raise ApiError(422, "Update is not a fast forward")
        self._move_ref(repo, ref, sha, actor)
        self._branch_moved(repo, ref.removeprefix("refs/heads/"), old, sha, actor)

    def _move_ref(self, repo: Repository, ref: str, sha: str, actor: str) -> None:
        before = repo.refs.get(ref)
        repo.refs[ref] = sha
        repo.pushers[(ref, sha)] = actor
        self._announce_push(repo, ref, before, sha, actor)

    def pusher_of(self, repo: Repository, sha: str) -> User:
        """Who pushed `sha`: whoever moved a branch that is there now, else whoever moved any
        branch there before (CI's deliveries name them); the owner when nobody did."""
        on_branch = [
            repo.pushers[(ref, at)]
            for ref, at in repo.refs.items()
            if at == sha and (ref, at) in repo.pushers
        ]
        before = [login for (_, at), login in repo.pushers.items() if at == sha]
        return self.user((on_branch or before or [repo.owner.login])[-1])

    def delete_ref(self, full_name: str, ref: str, actor: str | None = None) -> None:
        repo = self.repo(full_name)
        before = repo.refs.pop(ref, None)
        if before is None:
            raise ApiError(422, "Reference does not exist")
        self._announce_push(repo, ref, before, None, actor or repo.owner.login)

    def push(
        self, full_name: str, branch: str, actor: str, files: Mapping[str, str | None], message: str
    ) -> str:
        """A person's push of one commit on top of `branch` (created from the default branch)."""
        repo = self.repo(full_name)
        ref = f"refs/heads/{branch}"
        parent = repo.refs.get(ref) or repo.refs[f"refs/heads/{repo.default_branch}"]
        base_tree = self.objects.read_commit(parent).tree
        entries = [
            {"path": path, "mode": BLOB_MODE, "type": "blob", "content": text}
            if text is not None
            else {"path": path, "mode": BLOB_MODE, "type": "blob", "sha": None}
            for path, text in files.items()
        ]
        tree = self.create_tree(full_name, entries, base_tree)
        sha = self.objects.commit(tree, [parent], message, self._signature(self.user(actor)))
        if ref in repo.refs:
            self.update_ref(full_name, ref, sha, actor)
        else:
            self._move_ref(repo, ref, sha, actor)
        return sha

    def _tree_from_files(self, files: dict[str, str]) -> str:
        blobs = {
            path: (BLOB_MODE, self.objects.blob(text.encode())) for path, text in files.items()
        }
        return self.objects.build_tree(blobs)

    def _signature(self, person: User) -> Signature:
        email = f"{person.id}+{person.login}@users.noreply.simulator"
        return Signature(person.login, email, int(self.clock()))

    # -- pull requests ---------------------------------------------------------------------

    def open_pull(
        self,
        full_name: str,
        actor: str,
        *,
        title: str,
        head: str,
        base: str,
        body: str | None = None,
        draft: bool = False,
    ) -> Pull:
        repo, person = self.repo(full_name), self.user(actor)
        head_owner, _, head_ref = head.rpartition(":")
        source = self._head_repo(repo, head_owner)
        if f"refs/heads/{head_ref}" not in source.refs:
            raise invalid("PullRequest", "head", "invalid")
        if f"refs/heads/{base}" not in repo.refs:
            raise invalid("PullRequest", "base", "invalid")
        head_repo = source.full_name if source is not repo else None
        for pr in repo.pulls.values():
            if (
                pr.head_ref == head_ref
                and pr.head_repo == head_repo
                and repo.issues[pr.number].state == "open"
            ):
                raise ApiError(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": "A pull request already exists for "
                            f"{repo.owner.login}:{head_ref}.",
                        }
                    ],
                )
        head_sha = source.refs[f"refs/heads/{head_ref}"]
        base_sha = repo.refs[f"refs/heads/{base}"]
        if self.objects.is_ancestor(head_sha, base_sha):
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {head_ref}",
                    }
                ],
            )
        now = self.now()
        item = Issue(self.new_id(), repo.next_number, title, body, person, now, now, is_pull=True)
        repo.next_number += 1
        repo.issues[item.number] = item
        pr = Pull(self.new_id(), item.number, head_ref, base, head_sha, base_sha, draft)
        pr.head_repo = head_repo
        repo.pulls[pr.number] = pr
        self._announce_pull(repo, pr, "opened", person)
        return pr

    def _head_repo(self, repo: Repository, owner: str) -> Repository:
        """The repository a PR's head is in: `repo` itself, or `owner`'s fork of it."""
        if not owner or owner.lower() == repo.owner.login.lower():
            return repo
        fork = self.repos.get(f"{owner}/{repo.name}".lower())
        if fork is None or fork.fork_of != repo.full_name:
            raise invalid("PullRequest", "head", "invalid")
        return fork

    def pull(self, full_name: str, number: int) -> Pull:
        pr = self.repo(full_name).pulls.get(number)
        if pr is None:
            raise ApiError(404, "Not Found")
        return pr

    def update_pull(
        self,
        full_name: str,
        number: int,
        actor: str,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
    ) -> Pull:
        """A PR is an issue underneath: the same edit, announced as `pull_request` events."""
        pr = self.pull(full_name, number)
        self.edit_issue(full_name, number, actor, title=title, body=body, state=state)
        return pr

    def merge_pull(self, full_name: str, number: int, actor: str, *, sha: str | None = None) -> str:
        """Merge with a merge commit, as GitHub's merge button does; returns its SHA.

        The simulator merges only when the base has not moved past the PR's base (no
        conflict detection): otherwise it answers 405 like an unmergeable PR.
        """
        repo, pr, person = self.repo(full_name), self.pull(full_name, number), self.user(actor)
        item = repo.issues[number]
        if item.state != "open" or pr.merged:
            raise ApiError(405, "Pull Request is not mergeable")
        if pr.draft:
            raise ApiError(405, "Pull Request is still a draft")
        if sha is not None and sha != pr.head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        base_ref = f"refs/heads/{pr.base_ref}"
        base_head = repo.refs[base_ref]
        if not self.objects.is_ancestor(base_head, pr.head_sha):
            raise ApiError(405, "Pull Request is not mergeable")
        tree = self.objects.read_commit(pr.head_sha).tree
        source = pr.head_repo.split("/")[0] if pr.head_repo else repo.owner.login
        message = f"Merge pull request #{number} from {source}/{pr.head_ref}"
        merged = self.objects.commit(
            tree, [base_head, pr.head_sha], message, self._signature(person)
        )
        self._move_ref(repo, base_ref, merged, person.login)
        pr.merged, pr.merged_at = True, self.now()
        item.state, item.closed_at, item.updated_at = "closed", self.now(), self.now()
        self._announce_pull(repo, pr, "closed", person)
        for closed in re.findall(
            r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?) #(\d+)", item.body or ""
        ):
            linked = repo.issues.get(int(closed))
            if linked is not None and not linked.is_pull and linked.state == "open":
                linked.state, linked.closed_at = "closed", self.now()
                self._announce_issue(repo, linked, "closed", person)
        return merged

    def mark_ready(self, full_name: str, number: int, actor: str) -> Pull:
        repo, pr = self.repo(full_name), self.pull(full_name, number)
        if pr.draft:
            pr.draft = False
            repo.issues[number].updated_at = self.now()
            self._announce_pull(repo, pr, "ready_for_review", self.user(actor))
        return pr

    def pull_changes(self, repo: Repository, pr: Pull) -> list[FileChange]:  # noqa: ARG002 (kept: callers name the repository with the PR)
        base_tree = self.objects.read_commit(self._merge_base(pr)).tree
        head_tree = self.objects.read_commit(pr.head_sha).tree
        return self.objects.diff(base_tree, head_tree)

    def pull_commits(self, pr: Pull) -> list[Any]:
        return self.objects.history(pr.head_sha, pr.base_sha)

    def _merge_base(self, pr: Pull) -> str:
        """The base commit the PR's diff is taken against (its base when it was last synced)."""
        return pr.base_sha

    def _branch_moved(
        self, moved: Repository, branch: str, before: str, after: str, actor: str
    ) -> None:
        """Every open PR whose head is the branch (in this repository, or a fork's PRs in its
        parent) gets the new head and a `synchronize` in the PR's repository."""
        person = self.user(actor)
        in_parent = [self.repo(moved.fork_of)] if moved.fork_of else []
        for repo in [moved, *in_parent]:
            for pr in repo.pulls.values():
                where = pr.head_repo or repo.full_name
                if (
                    pr.head_ref == branch
                    and where == moved.full_name
                    and repo.issues[pr.number].state == "open"
                ):
                    pr.head_sha = after
                    repo.issues[pr.number].updated_at = self.now()
                    self._announce_pull(repo, pr, "synchronize", person, before=before, after=after)

    # -- reviews ---------------------------------------------------------------------------

    def submit_review(
        self,
        full_name: str,
        number: int,
        actor: str,
        *,
        event: str | None = "COMMENT",
        body: str = "",
        comments: Sequence[JSON] = (),
        commit_id: str | None = None,
    ) -> Review:
        """A review; without `event` it stays PENDING (a draft: no webhook, not counted).

        GitHub refuses an approval or a change request from the PR's own author (the App's bot
        user for the PRs Triad opens); a COMMENT review is allowed.
        """
        repo, pr, person = self.repo(full_name), self.pull(full_name, number), self.user(actor)
        states = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
        }
        if event is not None and event not in states:
            raise invalid("PullRequestReview", "event", "invalid")
        if event in {"APPROVE", "REQUEST_CHANGES"} and repo.issues[number].user is person:
            verb = "approve" if event == "APPROVE" else "request changes on"
            raise ApiError(
                422, "Unprocessable Entity", [f"Review Can not {verb} your own pull request"]
            )
        if event in {"REQUEST_CHANGES", "COMMENT"} and not body.strip() and not comments:
            raise ApiError(
                422,
                "Unprocessable Entity",
                [f"Review body is required for a review with event {event}"],
            )
        hunks = {change.path: change.patch for change in self.pull_changes(repo, pr)}
        placed = []
        for item in comments:
            path, line = item.get("path"), item.get("line")
            side = item.get("side", "RIGHT")
            hunk = hunk_for(hunks.get(path or "", ""), int(line or 0), side)
            if hunk is None:
                raise ApiError(422, "Unprocessable Entity", ["Line could not be resolved"])
            placed.append((item, hunk))
        now = self.now()
        review = Review(
            self.new_id(),
            number,
            person,
            body,
            states[event] if event is not None else "PENDING",
            commit_id or pr.head_sha,
            now if event is not None else None,
        )
        repo.reviews[review.id] = review
        for item, hunk in placed:
            note = ReviewComment(
                self.new_id(),
                review.id,
                number,
                person,
                item["path"],
                int(item["line"]),
                item.get("side", "RIGHT"),
                item.get("start_line"),
                item.get("body", ""),
                review.commit_id,
                hunk,
                now,
            )
            repo.review_comments[note.id] = note
        if review.pending:
            return review
        payload = self._base_payload(repo, person) | {
            "action": "submitted",
            "review": render.review(self.urls, repo, review, webhook=True),
            "pull_request": self.pull_shape(repo, pr),
        }
        self.emit("pull_request_review", payload)
        return review

    # -- CI --------------------------------------------------------------------------------

    def complete_check_suite(
        self,
        full_name: str,
        sha: str,
        conclusion: str,
        *,
        workflow: str = "CI",
        runs: list[JSON] | None = None,
    ) -> CheckSuite:
        """GitHub Actions ran `workflow` on `sha`: its suite, its runs, and the two deliveries.

        `runs` are {name, conclusion, title, summary, text (the log), annotations}; one run
        named after the workflow when not given.
        """
        repo = self.repo(full_name)
        if self.objects.kind(sha) != "commit":
            raise ApiError(422, "No commit found for SHA: " + sha)
        now = self.now()
        branch = next(
            (r.removeprefix("refs/heads/") for r, s in repo.refs.items() if s == sha), None
        )
        suite = CheckSuite(self.new_id(), sha, branch, "completed", conclusion, now, now, workflow)
        repo.check_suites[suite.id] = suite
        for spec in runs or [{"name": workflow, "conclusion": conclusion}]:
            run = CheckRun(
                self.new_id(),
                suite.id,
                spec["name"],
                sha,
                "completed",
                spec.get("conclusion", conclusion),
                now,
                now,
                spec.get("title"),
                spec.get("summary"),
                spec.get("text"),
                list(spec.get("annotations", [])),
            )
            repo.check_runs[run.id] = run
            suite.run_ids.append(run.id)
        pulls = self.pulls_for_sha(repo, sha)
        commit = self.objects.read_commit(sha)
        actions = render.check_app(self.urls, self.app.owner, self.created_at)
        suite_shape = render.check_suite(self.urls, repo, suite, commit, pulls, actions)
        pusher = self.pusher_of(repo, sha)
        payload = self._base_payload(repo, pusher) | {
            "action": "completed",
            "check_suite": suite_shape,
        }
        self.emit("check_suite", payload)
        workflow_shape, run_shape = render.workflow_run(
            self.urls, repo, suite, suite_shape, pusher, self.created_at
        )
        self.emit(
            "workflow_run",
            self._base_payload(repo, pusher)
            | {"action": "completed", "workflow": workflow_shape, "workflow_run": run_shape},
        )
        return suite

    # -- check runs made by the App ---------------------------------------------------------

    def app_shape(self, app: str | None) -> JSON:
        """The App a check suite or run belongs to: GitHub Actions (None), or this App."""
        if app is None:
            return render.check_app(self.urls, self.app.owner, self.created_at)
        return render.app(self.urls, self.app, self.created_at)

    def create_check_run(self, full_name: str, body: JSON) -> CheckRun:
        """The App's check run on a commit, in the App's own check suite there (made on
        first use); GitHub announces it with `check_run.created`."""
        repo = self.repo(full_name)
        name, sha = body.get("name"), body.get("head_sha")
        if not isinstance(name, str) or not name.strip():
            raise invalid("CheckRun", "name", "missing_field")
        if not isinstance(sha, str) or self.objects.kind(sha) != "commit":
            raise ApiError(422, f"No commit found for SHA: {sha}")
        status, conclusion = check_state(body, None)
        suite = self._app_suite(repo, sha)
        now = self.now()
        run = CheckRun(
            self.new_id(),
            suite.id,
            name,
            sha,
            status,
            conclusion,
            now,
            now if status == "completed" else None,
            app=self.app.slug,
        )
        apply_check_body(run, body)
        repo.check_runs[run.id] = run
        suite.run_ids.append(run.id)
        self._announce_check_run(repo, run, "created", self.app.bot)
        self._check_changed(repo, run, suite)
        return run

    def update_check_run(self, full_name: str, run_id: int, body: JSON) -> CheckRun:
        """Only the App that made a check run may change it (GitHub answers 403)."""
        repo = self.repo(full_name)
        run = repo.check_runs.get(run_id)
        if run is None:
            raise ApiError(404, "Not Found")
        if run.app != self.app.slug:
            raise ApiError(
                403, "Invalid app_id: a check run can only be modified by the App that made it"
            )
        run.status, run.conclusion = check_state(body, run)
        run.completed_at = (run.completed_at or self.now()) if run.status == "completed" else None
        apply_check_body(run, body)
        self._check_changed(repo, run, repo.check_suites[run.suite_id])
        return run

    def check_runs_on(self, full_name: str, sha: str | None = None) -> list[CheckRun]:
        repo = self.repo(full_name)
        return [run for run in repo.check_runs.values() if sha is None or run.head_sha == sha]

    def request_check_action(
        self, full_name: str, run_id: int, actor: str, identifier: str
    ) -> None:
        """A person clicks one of the App's buttons on its check run: `requested_action`,
        sent to the App that made the run (GitHub checks nobody's permission for it)."""
        repo, run = self.repo(full_name), self._app_run(full_name, run_id)
        if identifier not in {action.get("identifier") for action in run.actions}:
            raise ApiError(422, f"the check run has no button {identifier!r}")
        self._announce_check_run(
            repo, run, "requested_action", self.user(actor), requested=identifier
        )

    def rerequest_check_run(self, full_name: str, run_id: int, actor: str) -> None:
        """ "Re-run" on the App's check run: `check_run.rerequested` to the App."""
        repo, run = self.repo(full_name), self._app_run(full_name, run_id)
        self._announce_check_run(repo, run, "rerequested", self.user(actor))

    def rerequest_check_suite(self, full_name: str, suite_id: int, actor: str) -> None:
        """ "Re-run all checks" of the App's suite: `check_suite.rerequested` to the App."""
        repo = self.repo(full_name)
        suite = repo.check_suites.get(suite_id)
        if suite is None or suite.app != self.app.slug:
            raise ApiError(404, "Not Found")
        self._announce_suite(repo, suite, "rerequested", self.user(actor))

    def _app_run(self, full_name: str, run_id: int) -> CheckRun:
        run = self.repo(full_name).check_runs.get(run_id)
        if run is None or run.app != self.app.slug:
            raise ApiError(404, "Not Found")
        return run

    def _app_suite(self, repo: Repository, sha: str) -> CheckSuite:
        for suite in repo.check_suites.values():
            if suite.head_sha == sha and suite.app == self.app.slug:
                return suite
        now = self.now()
        branch = next(
            (
                ref.removeprefix("refs/heads/")
                for ref, at in repo.refs.items()
                if at == sha and ref.startswith("refs/heads/")
            ),
            None,
        )
        suite = CheckSuite(
            self.new_id(), sha, branch, "queued", None, now, now, self.app.name, app=self.app.slug
        )
        repo.check_suites[suite.id] = suite
        return suite

    def _check_changed(self, repo: Repository, run: CheckRun, suite: CheckSuite) -> None:
        """A completed run is announced; its suite completes when all its runs have."""
        if run.status == "completed":
            self._announce_check_run(repo, run, "completed", self.app.bot)
        runs = [repo.check_runs[i] for i in suite.run_ids]
        was = suite.status
        if all(r.status == "completed" for r in runs):
            suite.status = "completed"
            found = {r.conclusion for r in runs}
            suite.conclusion = next((c for c in SEVERITY if c in found), "success")
        else:
            suite.status, suite.conclusion = "in_progress", None
        suite.updated_at = self.now()
        if suite.status == "completed" and was != "completed":
            self._announce_suite(repo, suite, "completed", self.app.bot)

    def _announce_check_run(
        self,
        repo: Repository,
        run: CheckRun,
        action: str,
        sender: User,
        *,
        requested: str | None = None,
    ) -> None:
        pulls = self.pulls_for_sha(repo, run.head_sha)
        app = self.app_shape(run.app)
        shape = render.check_run(self.urls, repo, run, pulls, app)
        suite = repo.check_suites[run.suite_id]
        commit = self.objects.read_commit(run.head_sha)
        # a delivery carries the run's whole suite (the REST API only its id)
        shape["check_suite"] = render.check_suite(self.urls, repo, suite, commit, pulls, app)
        payload = self._base_payload(repo, sender) | {"action": action, "check_run": shape}
        if requested is not None:
            payload["requested_action"] = {"identifier": requested}
        self.emit("check_run", payload)

    def _announce_suite(
        self, repo: Repository, suite: CheckSuite, action: str, sender: User
    ) -> None:
        commit = self.objects.read_commit(suite.head_sha)
        pulls = self.pulls_for_sha(repo, suite.head_sha)
        shape = render.check_suite(self.urls, repo, suite, commit, pulls, self.app_shape(suite.app))
        payload = self._base_payload(repo, sender) | {"action": action, "check_suite": shape}
        self.emit("check_suite", payload)

    def pulls_for_sha(self, repo: Repository, sha: str) -> list[Pull]:
        """The open PRs at `sha`, as checks name them: a fork's PRs are left out (GitHub's
        checks only see pushes to the repository itself)."""
        return [
            pr
            for pr in repo.pulls.values()
            if pr.head_sha == sha and repo.issues[pr.number].state == "open" and not pr.head_repo
        ]

    def create_status(
        self,
        full_name: str,
        sha: str,
        actor: str,
        *,
        state: str,
        context: str = "default",
        description: str | None = None,
        target_url: str | None = None,
    ) -> CommitStatus:
        repo = self.repo(full_name)
        if state not in {"error", "failure", "pending", "success"}:
            raise invalid("Status", "state", "invalid")
        if self.objects.kind(sha) != "commit":
            raise ApiError(422, "No commit found for SHA: " + sha)
        item = CommitStatus(
            self.new_id(),
            sha,
            state,
            context,
            description,
            target_url,
            self.user(actor),
            self.now(),
        )
        repo.statuses.append(item)
        self._announce_status(repo, item)
        return item

    def _announce_status(self, repo: Repository, item: CommitStatus) -> None:
        """GitHub's `status` delivery (it has no `action`), naming the branches at the SHA."""
        branches = [
            {
                "name": ref.removeprefix("refs/heads/"),
                "commit": {"sha": sha, "url": f"{self.urls.repo(repo)}/commits/{sha}"},
                "protected": False,
            }
            for ref, sha in repo.refs.items()
            if sha == item.sha and ref.startswith("refs/heads/")
        ]
        payload = self._base_payload(repo, item.creator) | {
            "id": item.id,
            "sha": item.sha,
            "name": repo.full_name,
            "target_url": item.target_url,
            "avatar_url": None,
            "context": item.context,
            "description": item.description,
            "state": item.state,
            "commit": {"sha": item.sha, "url": f"{self.urls.repo(repo)}/commits/{item.sha}"},
            "branches": branches,
            "created_at": item.created_at,
            "updated_at": item.created_at,
        }
        self.emit("status", payload)

    # -- webhook payloads ------------------------------------------------------------------

    def _announce_push(
        self, repo: Repository, ref: str, before: str | None, after: str | None, actor: str
    ) -> None:
        """A `push` delivery for a branch moved, created (no `before`) or deleted (no `after`),
        listing the new commits with the paths each changed against its first parent."""
        if not ref.startswith("refs/heads/"):
            return
        zero = "0" * 40
        default = repo.refs.get(f"refs/heads/{repo.default_branch}")
        stop = before or (default if default != after else None)
        new = self.objects.history(after, stop) if after else []
        forced = bool(before and after and not self.objects.is_ancestor(before, after))
        commits = [
            render.pushed_commit(self.urls, repo, item, self._changed_paths(item))
            for item in new[-2048:]
        ]
        person = self.user(actor)
        payload = self._base_payload(repo, person) | {
            "ref": ref,
            "before": before or zero,
            "after": after or zero,
            "created": before is None,
            "deleted": after is None,
            "forced": forced,
            "base_ref": None,
            "compare": f"{self.urls.web}/{repo.full_name}/compare/{(before or zero)[:12]}"
            f"...{(after or zero)[:12]}",
            "commits": commits,
            "head_commit": commits[-1] if commits else None,
            "pusher": {"name": person.login, "email": None},
        }
        self.emit("push", payload)

    def _changed_paths(self, item: Any) -> dict[str, list[str]]:
        parent = self.objects.read_commit(item.parents[0]).tree if item.parents else None
        before = self.objects.flatten(parent) if parent else {}
        after = self.objects.flatten(item.tree)
        changed: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
        for path in sorted(before.keys() | after.keys()):
            old, new = before.get(path), after.get(path)
            if old is None:
                changed["added"].append(path)
            elif new is None:
                changed["removed"].append(path)
            elif old.sha != new.sha:
                changed["modified"].append(path)
        return changed

    def _base_payload(self, repo: Repository, sender: User) -> JSON:
        payload: JSON = {
            "repository": render.repository(self.urls, repo),
            "sender": render.user(self.urls, sender),
        }
        installed = self.installation_for(repo)
        if installed is not None:
            payload["installation"] = {
                "id": installed.id,
                "node_id": render.node_id("MDIz", installed.id),
            }
        if repo.owner.type == "Organization":
            payload["organization"] = {"login": repo.owner.login, "id": repo.owner.id}
        return payload

    def pull_shape(self, repo: Repository, pr: Pull) -> JSON:
        """The pull request as REST answers and webhooks carry it (with its diff's counts)."""
        return render.pull(
            self.urls,
            repo,
            repo.issues[pr.number],
            pr,
            self.pull_changes(repo, pr),
            len(self.pull_commits(pr)),
            self.repo(pr.head_repo) if pr.head_repo else None,
        )

    def _announce_issue(
        self,
        repo: Repository,
        item: Issue,
        action: str,
        sender: User,
        *,
        label: Label | None = None,
        changes: JSON | None = None,
    ) -> None:
        if item.is_pull:
            pr = repo.pulls[item.number]
            self._announce_pull(repo, pr, action, sender, label=label, changes=changes)
            return
        payload = self._base_payload(repo, sender) | {
            "action": action,
            "issue": render.issue(self.urls, repo, item),
        }
        if label is not None:
            payload["label"] = render.label(self.urls, repo, label)
        if changes is not None:
            payload["changes"] = changes
        self.emit("issues", payload)

    def _announce_pull(
        self,
        repo: Repository,
        pr: Pull,
        action: str,
        sender: User,
        *,
        label: Label | None = None,
        changes: JSON | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        payload = self._base_payload(repo, sender) | {
            "action": action,
            "number": pr.number,
            "pull_request": self.pull_shape(repo, pr),
        }
        if label is not None:
            payload["label"] = render.label(self.urls, repo, label)
        if changes is not None:
            payload["changes"] = changes
        if before is not None:
            payload |= {"before": before, "after": after}
        self.emit("pull_request", payload)

    def _announce_comment(
        self,
        repo: Repository,
        item: Issue,
        note: Comment,
        action: str,
        sender: User,
        *,
        changes: JSON | None = None,
    ) -> None:
        payload = self._base_payload(repo, sender) | {
            "action": action,
            "issue": render.issue(self.urls, repo, item),
            "comment": render.comment(self.urls, repo, note),
        }
        if changes is not None:
            payload["changes"] = changes
        self.emit("issue_comment", payload)
