"""The App manifest flow's last step: exchange GitHub's one-time code for the new App."""

from __future__ import annotations

import re
from dataclasses import dataclass

from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import GitHubException, RequestFailed
from pydantic import ValidationError

from bot.errors import GitHubError
from bot.private_key import PrivateKeyError, normalize_private_key

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True)
class RegisteredApp:
    """What GitHub returns once, when it creates an App from a manifest."""

    id: int
    slug: str
    name: str
    html_url: str
    pem: str
    webhook_secret: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # never print the secrets
        return f"RegisteredApp(id={self.id}, slug={self.slug!r}, html_url={self.html_url!r})"


async def convert_manifest_code(api_url: str, code: str) -> RegisteredApp:
    """`POST /app-manifests/{code}/conversions` (no authentication: the code is the proof).

    Every value of the answer is checked before anyone writes it anywhere: they go to `.env`
    and into a page, so a malformed answer (a newline in a name adds a line to `.env`) is
    refused as a whole.
    """
    if not _CODE.match(code):
        raise GitHubError("this is not a code GitHub hands out: register the App again")
    try:
        async with GitHub(UnauthAuthStrategy(), base_url=api_url.rstrip("/") + "/") as github:
            response = await github.rest.apps.async_create_from_manifest(code)
            app = response.parsed_data
    except RequestFailed as exc:
        status = exc.response.status_code
        if status == 404:
            raise GitHubError(
                "GitHub does not know this code: it is used once and expires after an hour; "
                "register the App again"
            ) from None
        raise GitHubError(f"GitHub answered {status} to the manifest conversion") from None
    except GitHubException as exc:
        raise GitHubError(f"could not reach GitHub at {api_url}: {type(exc).__name__}") from None
    except ValidationError:
        raise GitHubError("GitHub's answer to the manifest conversion is malformed") from None
    if not app.webhook_secret:
        raise GitHubError("GitHub returned no webhook secret: the manifest needs a webhook URL")
    return _checked(
        RegisteredApp(
            id=app.id,
            slug=app.slug or str(app.id),
            name=app.name,
            html_url=app.html_url,
            pem=app.pem,
            webhook_secret=app.webhook_secret,
            client_id=app.client_id,
            client_secret=app.client_secret,
        )
    )


def _checked(app: RegisteredApp) -> RegisteredApp:
    """`app` when every value is what GitHub sends; GitHubError naming the first bad field."""
    problem = None
    if type(app.id) is not int or app.id <= 0:
        problem = "`id` is not a positive integer"
    elif not app.html_url.startswith(("https://", "http://")):
        problem = "`html_url` is not an http(s) URL"
    else:
        for name in ("slug", "name", "html_url", "webhook_secret", "client_id", "client_secret"):
            value = getattr(app, name)
            if not isinstance(value, str) or not value.isprintable():
                problem = f"`{name}` holds control characters"
                break
    if problem is None:
        try:
            normalize_private_key(app.pem)
        except PrivateKeyError as exc:
            problem = f"`pem` {exc}"
    if problem is not None:
        raise GitHubError(f"GitHub's answer to the manifest conversion is malformed: {problem}")
    return app
