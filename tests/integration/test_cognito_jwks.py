"""Fetching, caching and refreshing a pool's signing keys, served by a local stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from jose import jwk, jwt

from tests.fixed_clock import FixedClock
from userfacing_api.adapters.identity.cognito_jwks import CognitoJwksSource
from userfacing_api.adapters.identity.jwt import JwksTokenVerifier
from userfacing_api.adapters.identity.signing_key import generate_private_pem
from userfacing_api.domain.errors import Unauthenticated, Unavailable

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_pool"
AUDIENCE = "app-client"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ROTATION_DELAY = 600
"""Seconds between the first fetch and a key rotation: more than the refresh interval."""


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private_pem = generate_private_pem()
        public: dict[str, Any] = jwk.construct(self.private_pem, "RS256").public_key().to_dict()
        self.public_jwk = {**public, "kid": kid, "use": "sig"}

    def id_token(self, user: str = "alice") -> str:
        claims = {
            "cognito:username": user,
            "email": f"{user}@example.org",
            "cognito:groups": ["users"],
            "token_use": "id",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 3600,
        }
        token: str = jwt.encode(
            claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid}
        )
        return token


class KeyServer:
    """Serves whichever keys a test puts in `keys` and counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.status = 200
        self.fetches = 0
        self.url = ""

    async def jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.status != 200:
            return web.Response(status=self.status, text="unavailable")
        return web.json_response({"keys": [key.public_jwk for key in self.keys]})


@pytest.fixture(scope="module")
def first_key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture(scope="module")
def second_key() -> SigningKey:
    return SigningKey("key-2")


@pytest.fixture(scope="module")
def unpublished_key() -> SigningKey:
    return SigningKey("key-3")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def key_server(aiohttp_server: ServerFactory, first_key: SigningKey) -> KeyServer:
    server = KeyServer()
    server.keys = [first_key]
    app = web.Application()
    app.router.add_get("/pool/.well-known/jwks.json", server.jwks)
    running = await aiohttp_server(app)
    server.url = str(running.make_url("/pool/.well-known/jwks.json"))
    return server


@pytest.fixture
async def verifier(key_server: KeyServer, clock: FixedClock) -> AsyncIterator[JwksTokenVerifier]:
    async with aiohttp.ClientSession() as session:
        source = CognitoJwksSource(key_server.url, session, clock)
        yield JwksTokenVerifier(source, ISSUER, AUDIENCE, clock)


async def test_the_keys_are_fetched_once_and_then_served_from_the_cache(
    verifier: JwksTokenVerifier, key_server: KeyServer, first_key: SigningKey
) -> None:

    await verifier.verify(first_key.id_token("alice"))
    principal = await verifier.verify(first_key.id_token("bob"))

    assert principal.user_id == "bob"
    assert key_server.fetches == 1


async def test_a_new_key_id_makes_the_keys_be_fetched_again(
    verifier: JwksTokenVerifier,
    key_server: KeyServer,
    first_key: SigningKey,
    second_key: SigningKey,
    clock: FixedClock,
) -> None:
    await verifier.verify(first_key.id_token())
    clock.advance(ROTATION_DELAY)

    key_server.keys = [first_key, second_key]
    principal = await verifier.verify(second_key.id_token("carol"))

    assert principal.user_id == "carol"
    assert key_server.fetches == 2


async def test_a_second_unknown_key_id_within_a_minute_is_rejected_without_a_fetch(
    verifier: JwksTokenVerifier,
    key_server: KeyServer,
    first_key: SigningKey,
    second_key: SigningKey,
    unpublished_key: SigningKey,
    clock: FixedClock,
) -> None:
    await verifier.verify(first_key.id_token())
    clock.advance(ROTATION_DELAY)
    key_server.keys = [first_key, second_key]
    await verifier.verify(second_key.id_token())

    clock.advance(59)
    with pytest.raises(Unauthenticated):
        await verifier.verify(unpublished_key.id_token())

    assert key_server.fetches == 2


async def test_an_unknown_key_id_a_minute_after_the_last_fetch_fetches_again(
    verifier: JwksTokenVerifier,
    key_server: KeyServer,
    first_key: SigningKey,
    unpublished_key: SigningKey,
    clock: FixedClock,
) -> None:
    await verifier.verify(first_key.id_token())

    clock.advance(60)
    with pytest.raises(Unauthenticated):
        await verifier.verify(unpublished_key.id_token())

    assert key_server.fetches == 2


async def test_callers_missing_the_same_key_at_once_share_one_fetch(
    verifier: JwksTokenVerifier, key_server: KeyServer, first_key: SigningKey
) -> None:

    principals = await asyncio.gather(
        *(verifier.verify(first_key.id_token(f"user{number}")) for number in range(10))
    )

    assert [principal.user_id for principal in principals] == [f"user{n}" for n in range(10)]
    assert key_server.fetches == 1


async def test_a_key_set_that_cannot_be_fetched_is_unavailable_and_not_asked_again_at_once(
    verifier: JwksTokenVerifier, key_server: KeyServer, first_key: SigningKey
) -> None:
    key_server.status = 503

    with pytest.raises(Unavailable):
        await verifier.verify(first_key.id_token())
    with pytest.raises(Unavailable):
        await verifier.verify(first_key.id_token())

    assert key_server.fetches == 1


async def test_the_keys_are_fetched_again_a_minute_after_a_failed_fetch(
    verifier: JwksTokenVerifier,
    key_server: KeyServer,
    first_key: SigningKey,
    clock: FixedClock,
) -> None:
    key_server.status = 503
    with pytest.raises(Unavailable):
        await verifier.verify(first_key.id_token())

    key_server.status = 200
    clock.advance(60)
    principal = await verifier.verify(first_key.id_token("dave"))

    assert principal.user_id == "dave"
    assert key_server.fetches == 2
