"""The App's JWT and installation tokens are checked as GitHub checks them."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.simulator.conftest import (
    REPO,
    Clock,
    app_jwt,
    as_installation,
    installation_of,
    token_for,
)
from triad_lab.simulator.server import Simulator


def as_app(sim: Simulator, credential: str, path: str = "/app") -> httpx.Response:
    return httpx.get(f"{sim.url}{path}", headers={"authorization": f"Bearer {credential}"})


def test_a_valid_jwt_reads_the_app(sim: Simulator) -> None:
    answer = as_app(sim, app_jwt(sim))
    assert answer.status_code == 200 and answer.json()["slug"] == "triad"


def test_a_jwt_signed_with_another_key_is_refused(sim: Simulator) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    answer = as_app(sim, app_jwt(sim, key=pem))
    assert (answer.status_code, answer.json()["message"]) == (
        401,
        "A JSON web token could not be decoded",
    )


def test_an_expired_jwt_is_refused(sim: Simulator) -> None:
    now = int(time.time())
    answer = as_app(sim, app_jwt(sim, iat=now - 700, exp=now - 100))
    assert answer.status_code == 401
    assert answer.json()["message"].startswith("'Expiration time' claim ('exp') must be")


def test_a_jwt_living_longer_than_ten_minutes_is_refused(sim: Simulator) -> None:
    now = int(time.time())
    answer = as_app(sim, app_jwt(sim, iat=now - 60, exp=now - 60 + 601))
    assert (answer.status_code, answer.json()["message"]) == (
        401,
        "'Expiration time' claim ('exp') is too far in the future",
    )


def test_a_jwt_for_another_app_is_refused(sim: Simulator) -> None:
    answer = as_app(sim, app_jwt(sim, iss=str(sim.app_id + 1)))
    assert (answer.status_code, answer.json()["message"]) == (
        401,
        "A JSON web token could not be decoded",
    )


def test_a_jwt_cannot_read_a_repository(sim: Simulator) -> None:
    answer = as_app(sim, app_jwt(sim), f"/repos/{REPO}")
    assert answer.status_code == 403


def test_an_installation_token_cannot_read_the_app(sim: Simulator, installation_id: int) -> None:
    with as_installation(sim, token_for(sim, installation_id)) as http:
        assert http.get(f"/repos/{REPO}").status_code == 200
        answer = http.get("/app")
    assert answer.status_code == 403


def test_a_token_for_an_unknown_installation_is_not_found(sim: Simulator) -> None:
    answer = httpx.post(
        f"{sim.url}/app/installations/424242/access_tokens",
        headers={"authorization": f"Bearer {app_jwt(sim)}"},
    )
    assert (answer.status_code, answer.json()["message"]) == (404, "Not Found")


def test_a_token_expires_after_an_hour_on_githubs_clock(
    make_sim: Callable[..., Simulator],
) -> None:
    clock = Clock()
    sim = make_sim(clock=clock)
    token = token_for(sim, installation_of(sim))
    with as_installation(sim, token) as http:
        clock.advance(3590)
        assert http.get(f"/repos/{REPO}").status_code == 200
        clock.advance(11)
        answer = http.get(f"/repos/{REPO}")
    assert (answer.status_code, answer.json()["message"]) == (401, "Bad credentials")


def test_no_credentials_is_unauthenticated(sim: Simulator) -> None:
    answer = httpx.get(f"{sim.url}/repos/{REPO}")
    assert (answer.status_code, answer.json()["message"]) == (401, "Requires authentication")
