"""Authentication as GitHub does it for an App: its JWT, or an installation access token.

Time checks use the simulator's clock (GitHub's clock), so a test can move time to expire a
token or a JWT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt

from triad_lab.simulator.api.common import Caller
from triad_lab.simulator.state import ApiError

if TYPE_CHECKING:
    from triad_lab.simulator.server import Simulator

#: GitHub's longest JWT lifetime, and the clock drift it tolerates on `iat`
JWT_LIFETIME = 600
DRIFT = 60


def authenticate(sim: Simulator, authorization: str) -> Caller:
    """The caller an `Authorization` header names, or GitHub's 401."""
    _, _, credential = authorization.strip().partition(" ")
    if not credential:
        raise ApiError(401, "Requires authentication")
    if credential.count(".") == 2:
        _verify_jwt(sim, credential)
        return Caller("app")
    with sim.lock:
        token = sim.world.tokens.get(credential)
        if (
            token is None
            or token.expires_at <= sim.world.clock()
            or token.installation_id not in sim.world.installations
        ):
            raise ApiError(401, "Bad credentials")
        return Caller("installation", token.installation_id, tuple(token.permissions.items()))


def _verify_jwt(sim: Simulator, credential: str) -> None:
    try:
        claims = jwt.decode(
            credential,
            sim.public_key,
            algorithms=["RS256"],
            options={
                "require": ["exp", "iat", "iss"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        raise ApiError(401, "A JSON web token could not be decoded") from None
    now = sim.world.clock()
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(expires, int | float) or expires <= now:
        raise ApiError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future"
            " time at which the assertion expires",
        )
    if not isinstance(issued, int | float) or issued > now + DRIFT:
        raise ApiError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the"
            " assertion was issued",
        )
    if expires - issued > JWT_LIFETIME or expires > now + JWT_LIFETIME + DRIFT:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    if str(claims["iss"]) not in {str(sim.world.app.id), sim.client_id}:
        # GitHub looks the App up by `iss`; with another App's id the key does not match
        raise ApiError(401, "A JSON web token could not be decoded")
