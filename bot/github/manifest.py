"""The App manifest flow's last step: exchange GitHub's one-time code for the new App."""

from __future__ import annotations

from dataclasses import dataclass

from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import GitHubException, RequestFailed

from bot.errors import GitHubError


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
    """`POST /app-manifests/{code}/conversions` (no authentication: the code is the proof)."""
    try:
        async with GitHub(UnauthAuthStrategy(), base_url=api_url.rstrip("/") + "/") as github:
            response = await github.rest.apps.async_create_from_manifest(code)
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
    app = response.parsed_data
    if not app.webhook_secret:
        raise GitHubError("GitHub returned no webhook secret: the manifest needs a webhook URL")
    return RegisteredApp(
        id=app.id,
        slug=app.slug or str(app.id),
        name=app.name,
        html_url=app.html_url,
        pem=app.pem,
        webhook_secret=app.webhook_secret,
        client_id=app.client_id,
        client_secret=app.client_secret,
    )
