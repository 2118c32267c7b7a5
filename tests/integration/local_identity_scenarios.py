"""What the local identity provider must do on any database engine.

The SQLite and PostgreSQL suites run these against their own database URL.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from jose import jwt

from tests.fixed_clock import FixedClock
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.db.stores import Database
from userfacing_api.adapters.identity.local import (
    DEFAULT_AUDIENCE,
    LocalIdentityProvider,
    open_local_identity,
)
from userfacing_api.domain.errors import AlreadyExists, BadRequest, NotFound, Unauthenticated
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.identity import TokenVerifier

PASSWORD = "Correct-horse-9"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ISSUER = "userfacing-api-local"


def unique_username() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@example.org"


async def local_identity(
    database: Database,
    clock: Clock | None = None,
    *,
    audience: str = DEFAULT_AUDIENCE,
    token_lifetime: int = 3600,
) -> tuple[TokenVerifier, LocalIdentityProvider]:
    return await open_local_identity(
        database.users,
        database.signing_keys,
        issuer=ISSUER,
        audience=audience,
        token_lifetime=token_lifetime,
        clock=clock,
    )


async def a_registered_user_gets_a_cognito_shaped_token(url: str) -> None:
    username = unique_username()
    clock = FixedClock(START)
    async with open_database(url) as database:
        verifier, provider = await local_identity(
            database, clock, audience="client-1", token_lifetime=600
        )

        registered = await provider.register(username, PASSWORD, ["users", "admins"])
        issued = await provider.issue_token(username, PASSWORD)
        principal = await verifier.verify(issued.id_token)

    assert uuid.UUID(registered.user_id).version == 4
    assert registered.email == username
    assert registered.groups == ("users", "admins")
    assert principal == registered
    assert issued.expires_in == 600
    claims = jwt.get_unverified_claims(issued.id_token)
    assert claims["sub"] == claims["cognito:username"] == registered.user_id
    assert claims["email"] == username
    assert claims["cognito:groups"] == ["users", "admins"]
    assert claims["token_use"] == "id"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "client-1"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["iat"] == int(START.timestamp())
    assert jwt.get_unverified_header(issued.id_token)["alg"] == "RS256"


async def a_token_expires_after_its_lifetime(url: str) -> None:
    username = unique_username()
    clock = FixedClock(START)
    async with open_database(url) as database:
        verifier, provider = await local_identity(database, clock, token_lifetime=60)
        await provider.register(username, PASSWORD, ["users"])
        token = (await provider.issue_token(username, PASSWORD)).id_token
        clock.advance(59)
        await verifier.verify(token)

        clock.advance(1)
        with pytest.raises(Unauthenticated):
            await verifier.verify(token)


async def a_token_from_more_than_a_minute_ahead_is_refused(url: str) -> None:
    """A token whose `iat` lies in the future (an instance with a clock running ahead)."""
    username = unique_username()
    clock = FixedClock(START)
    async with open_database(url) as database:
        verifier, provider = await local_identity(database, clock)
        await provider.register(username, PASSWORD, ["users"])
        token = (await provider.issue_token(username, PASSWORD)).id_token
        clock.advance(-60)
        await verifier.verify(token)

        clock.advance(-1)
        with pytest.raises(Unauthenticated, match="not yet valid"):
            await verifier.verify(token)


async def a_username_can_be_registered_only_once(url: str) -> None:
    username = unique_username()
    async with open_database(url) as database:
        _, provider = await local_identity(database)
        first = await provider.register(username, PASSWORD, ["users"])

        with pytest.raises(AlreadyExists):
            await provider.register(username, "Other-password-1", ["other"])
        issued = await provider.issue_token(username, PASSWORD)

    assert jwt.get_unverified_claims(issued.id_token)["cognito:username"] == first.user_id


async def a_rejected_password_creates_no_user(url: str) -> None:
    username = unique_username()
    async with open_database(url) as database:
        _, provider = await local_identity(database)

        with pytest.raises(BadRequest, match="digit"):
            await provider.register(username, "No-digits-here", ["users"])
        with pytest.raises(NotFound):
            await provider.issue_token(username, "No-digits-here")


async def tokens_need_the_right_password_of_a_known_user(url: str) -> None:
    username = unique_username()
    async with open_database(url) as database:
        _, provider = await local_identity(database)
        await provider.register(username, PASSWORD, ["users"])

        with pytest.raises(BadRequest):
            await provider.issue_token(username, "Correct-horse-8")
        with pytest.raises(NotFound):
            await provider.issue_token(unique_username(), PASSWORD)


async def users_and_tokens_survive_a_restart(url: str) -> None:
    username = unique_username()
    async with open_database(url) as database:
        _, provider = await local_identity(database)
        registered = await provider.register(username, PASSWORD, ["users"])
        token = (await provider.issue_token(username, PASSWORD)).id_token

    async with open_database(url) as reopened:
        verifier, provider = await local_identity(reopened)
        principal = await verifier.verify(token)
        reissued = await provider.issue_token(username, PASSWORD)

    assert principal == registered
    assert (
        jwt.get_unverified_header(reissued.id_token)["kid"]
        == (jwt.get_unverified_header(token)["kid"])
    )


async def instances_starting_together_share_one_signing_key(url: str) -> None:
    """Two instances on one database, both finding no key at start-up."""
    async with AsyncExitStack() as stack:
        databases = [await stack.enter_async_context(open_database(url)) for _ in range(2)]
        (verifier_a, provider_a), (verifier_b, provider_b) = await asyncio.gather(
            *(local_identity(database) for database in databases)
        )
        alice, bob = unique_username(), unique_username()
        await provider_a.register(alice, PASSWORD, ["users"])
        await provider_b.register(bob, PASSWORD, ["users"])

        from_a = (await provider_a.issue_token(alice, PASSWORD)).id_token
        from_b = (await provider_b.issue_token(bob, PASSWORD)).id_token

        assert (await verifier_b.verify(from_a)).email == alice
        assert (await verifier_a.verify(from_b)).email == bob
