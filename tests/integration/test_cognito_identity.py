"""The Cognito identity adapter against a user pool on the moto server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jose import jwt
from moto.cognitoidp.utils import check_secret_hash

from tests.fixed_clock import FixedClock
from tests.integration.cognito_pool import PASSWORD, CognitoPool, cognito_client
from userfacing_api.adapters.identity.cognito import open_cognito_identity, secret_hash
from userfacing_api.bootstrap import cognito_pool_of
from userfacing_api.domain.errors import (
    AlreadyExists,
    BadRequest,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from userfacing_api.domain.identity import Principal
from userfacing_api.ports.identity import IdentityProvider, TokenVerifier

Identity = tuple[TokenVerifier, IdentityProvider]

ALICE = "alice@example.org"


@pytest.fixture
def clock() -> FixedClock:
    """Moto stamps its tokens with the real time, so the clock starts there."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture
async def identity(cognito_pool: CognitoPool, clock: FixedClock) -> AsyncIterator[Identity]:
    async with open_cognito_identity(
        cognito_pool_of(cognito_pool.settings().identity), clock
    ) as identity:
        yield identity


async def token_of(
    identity: Identity, username: str = ALICE, groups: tuple[str, ...] = ("users",)
) -> str:
    _, provider = identity
    await provider.register(username, PASSWORD, groups)
    return (await provider.issue_token(username, PASSWORD)).id_token


def issued_at(token: str) -> datetime:
    """The `iat` moto stamped on `token`, from the real clock at the time of issue."""
    return datetime.fromtimestamp(jwt.get_unverified_claims(token)["iat"], UTC)


def expires_at(token: str) -> datetime:
    """The `exp` moto stamped on `token`."""
    return datetime.fromtimestamp(jwt.get_unverified_claims(token)["exp"], UTC)


async def boto3_login(client_id: str, username: str = ALICE) -> dict[str, Any]:
    """What a client logging in with Cognito itself receives."""
    response = await asyncio.to_thread(
        cognito_client().initiate_auth,
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    result: dict[str, Any] = response["AuthenticationResult"]
    return result


async def test_a_registered_user_gets_an_id_token_that_verifies_to_them(
    identity: Identity,
) -> None:
    verifier, provider = identity

    registered = await provider.register(ALICE, PASSWORD, ["users"])
    issued = await provider.issue_token(ALICE, PASSWORD)

    assert registered == Principal(user_id=ALICE, email=ALICE, groups=("users",))
    assert issued.expires_in == 3600
    assert await verifier.verify(issued.id_token) == registered


async def test_an_app_client_with_a_secret_logs_users_in_with_the_secret_hash(
    cognito_pool: CognitoPool, clock: FixedClock
) -> None:
    settings = cognito_pool.settings(
        COGNITO_CLIENT_ID=cognito_pool.secret_client_id, COGNITO_SECRET=cognito_pool.client_secret
    )
    async with open_cognito_identity(cognito_pool_of(settings.identity), clock) as identity:
        token = await token_of(identity)

        principal = await identity[0].verify(token)

    assert principal.user_id == ALICE


def test_the_secret_hash_is_the_one_cognito_expects() -> None:
    digest = secret_hash("client-secret", "client-id", ALICE)

    assert check_secret_hash("client-secret", "client-id", ALICE, digest)
    assert not check_secret_hash("client-secret", "client-id", "bob@example.org", digest)


async def test_registering_a_taken_username_is_refused(identity: Identity) -> None:
    _, provider = identity
    await provider.register(ALICE, PASSWORD, ["users"])

    with pytest.raises(AlreadyExists):
        await provider.register(ALICE, PASSWORD, ["users"])


async def test_a_password_the_pool_rejects_leaves_no_half_registered_user(
    identity: Identity,
) -> None:
    _, provider = identity

    with pytest.raises(BadRequest, match="Password rejected"):
        await provider.register(ALICE, "short", ["users"])
    registered = await provider.register(ALICE, PASSWORD, ["users"])

    assert registered.user_id == ALICE


async def test_a_group_missing_from_the_pool_is_created_on_registration(
    identity: Identity,
) -> None:
    verifier, _ = identity

    principal = await verifier.verify(await token_of(identity, groups=("users", "beta")))

    assert principal.groups is not None
    assert sorted(principal.groups) == ["beta", "users"]


async def test_a_wrong_password_is_a_bad_request(identity: Identity) -> None:
    _, provider = identity
    await provider.register(ALICE, PASSWORD, ["users"])

    with pytest.raises(BadRequest, match="Incorrect username or password"):
        await provider.issue_token(ALICE, "Wrong-horse-9")


async def test_an_unknown_user_is_not_found(identity: Identity) -> None:
    _, provider = identity

    with pytest.raises(NotFound):
        await provider.issue_token("nobody@example.org", PASSWORD)


async def test_an_expired_token_is_rejected(identity: Identity, clock: FixedClock) -> None:
    verifier, _ = identity
    token = await token_of(identity)

    # From the token's own expiry: moto stamped it with the real time, which on a slow
    # machine can run seconds past the clock the fixture started.
    clock.current = expires_at(token) + timedelta(seconds=1)

    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(token)


async def test_a_token_issued_more_than_a_minute_ahead_of_our_clock_is_rejected(
    identity: Identity, clock: FixedClock
) -> None:
    verifier, _ = identity
    token = await token_of(identity)

    clock.current = issued_at(token) - timedelta(seconds=61)

    with pytest.raises(Unauthenticated, match="not yet valid"):
        await verifier.verify(token)


async def test_a_token_issued_by_a_clock_slightly_ahead_is_accepted(
    identity: Identity, clock: FixedClock
) -> None:
    verifier, _ = identity
    token = await token_of(identity)

    clock.current = issued_at(token) - timedelta(seconds=55)

    assert (await verifier.verify(token)).email == ALICE


async def test_a_token_issued_to_another_app_client_is_rejected(
    cognito_pool: CognitoPool, clock: FixedClock, identity: Identity
) -> None:
    await identity[1].register(ALICE, PASSWORD, ["users"])
    other_clients_token = (await boto3_login(cognito_pool.secret_client_id))["IdToken"]
    verifier, _ = identity

    with pytest.raises(Unauthenticated):
        await verifier.verify(other_clients_token)


async def test_a_token_from_another_issuer_is_rejected(
    cognito_pool: CognitoPool, clock: FixedClock
) -> None:
    other_issuer = f"https://cognito-idp.eu-west-1.amazonaws.com/{cognito_pool.pool_id}"
    settings = cognito_pool.settings(COGNITO_ISSUER=other_issuer)
    async with open_cognito_identity(cognito_pool_of(settings.identity), clock) as identity:
        token = await token_of(identity)

        with pytest.raises(Unauthenticated):
            await identity[0].verify(token)


async def test_an_access_token_is_not_taken_for_an_id_token(
    cognito_pool: CognitoPool, identity: Identity
) -> None:
    await identity[1].register(ALICE, PASSWORD, ["users"])
    access_token = (await boto3_login(cognito_pool.client_id))["AccessToken"]

    with pytest.raises(Unauthenticated):
        await identity[0].verify(access_token)


async def test_a_token_cognito_issued_directly_to_the_frontend_verifies(
    cognito_pool: CognitoPool, identity: Identity
) -> None:
    await identity[1].register(ALICE, PASSWORD, ["users"])
    id_token = (await boto3_login(cognito_pool.client_id))["IdToken"]

    principal = await identity[0].verify(id_token)

    assert principal == Principal(user_id=ALICE, email=ALICE, groups=("users",))


async def test_a_user_who_must_still_change_their_password_cannot_get_a_token_here(
    cognito_pool: CognitoPool, identity: Identity
) -> None:
    await asyncio.to_thread(
        cognito_client().admin_create_user,
        UserPoolId=cognito_pool.pool_id,
        Username=ALICE,
        TemporaryPassword=PASSWORD,
        MessageAction="SUPPRESS",
    )

    with pytest.raises(BadRequest, match="NEW_PASSWORD_REQUIRED"):
        await identity[1].issue_token(ALICE, PASSWORD)


async def test_an_unreachable_cognito_is_unavailable(
    cognito_pool: CognitoPool, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")

    async with open_cognito_identity(cognito_pool_of(cognito_pool.settings().identity), clock) as (
        _,
        provider,
    ):
        with pytest.raises(Unavailable):
            await provider.register(ALICE, PASSWORD, ["users"])
