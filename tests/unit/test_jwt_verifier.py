"""The id-token verifier shared by Cognito and the local provider."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jose import jwk, jwt

from tests.fixed_clock import FixedClock
from userfacing_api.adapters.identity.jwt import JwksTokenVerifier, StaticJwksSource
from userfacing_api.adapters.identity.signing_key import generate_private_pem
from userfacing_api.domain.errors import Unauthenticated
from userfacing_api.domain.identity import Principal

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_pool"
AUDIENCE = "client-id"
KID = "key-1"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW_SECONDS = int(NOW.timestamp())


@pytest.fixture(scope="module")
def private_pem() -> str:
    return generate_private_pem()


@pytest.fixture(scope="module")
def public_jwk(private_pem: str) -> dict[str, Any]:
    public: dict[str, Any] = jwk.construct(private_pem, "RS256").public_key().to_dict()
    return {**public, "kid": KID}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def verifier(public_jwk: dict[str, Any], clock: FixedClock) -> JwksTokenVerifier:
    return JwksTokenVerifier(StaticJwksSource({KID: public_jwk}), ISSUER, AUDIENCE, clock)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "0b6d-user",
        "cognito:username": "0b6d-user",
        "email": "alice@example.org",
        "cognito:groups": ["users"],
        "token_use": "id",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": NOW_SECONDS - 60,
        "exp": NOW_SECONDS + 3600,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def sign(pem: str, payload: dict[str, Any], kid: str | None = KID, alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else None
    token: str = jwt.encode(payload, pem, algorithm=alg, headers=headers)
    return token


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_a_valid_token_gives_its_user_email_and_groups(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    principal = await verifier.verify(sign(private_pem, claims()))

    assert principal == Principal(user_id="0b6d-user", email="alice@example.org", groups=("users",))


async def test_a_token_without_groups_claim_gives_no_groups(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    principal = await verifier.verify(sign(private_pem, claims(**{"cognito:groups": None})))

    assert principal.groups is None


async def test_a_token_is_accepted_until_the_second_it_expires(
    verifier: JwksTokenVerifier, private_pem: str, clock: FixedClock
) -> None:
    token = sign(private_pem, claims(exp=NOW_SECONDS + 10))
    clock.advance(9)
    assert (await verifier.verify(token)).user_id == "0b6d-user"

    clock.advance(1)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(token)


async def test_leeway_tolerates_a_slightly_expired_token(
    public_jwk: dict[str, Any], private_pem: str, clock: FixedClock
) -> None:
    lenient = JwksTokenVerifier(
        StaticJwksSource({KID: public_jwk}), ISSUER, AUDIENCE, clock, leeway_seconds=30
    )

    principal = await lenient.verify(sign(private_pem, claims(exp=NOW_SECONDS - 10)))

    assert principal.user_id == "0b6d-user"


async def test_a_verified_token_is_not_yet_valid_again_once_the_clock_goes_back(
    verifier: JwksTokenVerifier, private_pem: str, clock: FixedClock
) -> None:
    token = sign(private_pem, claims(iat=NOW_SECONDS, nbf=NOW_SECONDS + 30))
    assert (await verifier.verify(token)).user_id == "0b6d-user"

    clock.advance(-31)  # nbf is now 61 seconds ahead
    with pytest.raises(Unauthenticated, match="not yet valid"):
        await verifier.verify(token)
    clock.advance(1)
    assert (await verifier.verify(token)).user_id == "0b6d-user"


async def test_a_token_whose_nbf_is_no_number_is_never_valid(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    with pytest.raises(Unauthenticated, match="not yet valid"):
        await verifier.verify(sign(private_pem, claims(nbf="yesterday")))
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(sign(private_pem, claims(nbf="yesterday", exp=NOW_SECONDS - 1)))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_a_token_valid_only_more_than_a_minute_from_now_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str, claim: str
) -> None:
    with pytest.raises(Unauthenticated, match="not yet valid"):
        await verifier.verify(sign(private_pem, claims(**{claim: NOW_SECONDS + 61})))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_a_token_from_an_issuer_clock_up_to_a_minute_ahead_is_accepted(
    verifier: JwksTokenVerifier, private_pem: str, claim: str
) -> None:
    principal = await verifier.verify(sign(private_pem, claims(**{claim: NOW_SECONDS + 60})))

    assert principal.user_id == "0b6d-user"


async def test_a_future_token_is_accepted_once_its_time_has_come(
    verifier: JwksTokenVerifier, private_pem: str, clock: FixedClock
) -> None:
    token = sign(private_pem, claims(iat=NOW_SECONDS + 120))
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)

    clock.advance(60)

    assert (await verifier.verify(token)).user_id == "0b6d-user"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": NOW_SECONDS - 1}, id="expired"),
        pytest.param({"exp": None}, id="no expiry"),
        pytest.param({"exp": "tomorrow"}, id="expiry not a number"),
        pytest.param({"iss": "https://evil.example.org"}, id="wrong issuer"),
        pytest.param({"iss": None}, id="no issuer"),
        pytest.param({"aud": "other-client"}, id="wrong audience"),
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"token_use": "access"}, id="access token"),
        pytest.param({"token_use": None}, id="no token_use"),
        pytest.param({"cognito:username": None}, id="no username"),
        pytest.param({"cognito:groups": "users"}, id="groups not a list"),
        pytest.param({"email": 42}, id="email not a string"),
    ],
)
async def test_a_token_with_bad_claims_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(private_pem, claims(**changes)))


async def test_a_token_with_an_unknown_kid_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(private_pem, claims(), kid="key-2"))


async def test_a_token_without_kid_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(private_pem, claims(), kid=None))


async def test_a_token_signed_by_another_key_under_the_same_kid_is_rejected(
    verifier: JwksTokenVerifier,
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign(generate_private_pem(), claims()))


async def test_a_token_with_tampered_claims_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    header, _, signature = sign(private_pem, claims()).split(".")
    forged = b64(claims(**{"cognito:username": "someone-else"}))

    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{header}.{forged}.{signature}")


async def test_an_unsigned_alg_none_token_is_rejected(verifier: JwksTokenVerifier) -> None:
    token = f"{b64({'alg': 'none', 'kid': KID, 'typ': 'JWT'})}.{b64(claims())}."

    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_an_hs256_token_keyed_with_the_public_key_is_rejected(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    public_pem = jwk.construct(private_pem, "RS256").public_key().to_pem().decode()
    header = b64({"alg": "HS256", "kid": KID, "typ": "JWT"})
    payload = b64(claims())
    token = _hs256(f"{header}.{payload}", public_pem.encode())

    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


def _hs256(signing_input: str, secret: bytes) -> str:
    """Sign by hand: jose refuses to use a PEM as an HMAC secret, an attacker would not."""
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="one word"),
        pytest.param("a.b.c", id="three dots of junk"),
        pytest.param("x" * 5000, id="very long"),
    ],
)
async def test_garbage_is_rejected_without_echoing_it(
    verifier: JwksTokenVerifier, token: str
) -> None:
    with pytest.raises(Unauthenticated) as raised:
        await verifier.verify(token)

    assert token == "" or token not in raised.value.detail


class CountingSource(StaticJwksSource):
    def __init__(self, keys: dict[str, dict[str, Any]]) -> None:
        super().__init__(keys)
        self.lookups = 0

    async def key_for(self, kid: str) -> dict[str, Any] | None:
        self.lookups += 1
        found = await super().key_for(kid)
        return None if found is None else dict(found)


async def test_a_token_verified_once_is_not_checked_against_the_keys_again(
    public_jwk: dict[str, Any], private_pem: str, clock: FixedClock
) -> None:
    source = CountingSource({KID: public_jwk})
    verifier = JwksTokenVerifier(source, ISSUER, AUDIENCE, clock)
    token = sign(private_pem, claims())
    first = await verifier.verify(token)
    second = await verifier.verify(token)
    assert first == second
    assert source.lookups == 1


async def test_a_rejected_token_is_never_remembered_as_valid(
    verifier: JwksTokenVerifier, private_pem: str
) -> None:
    token = sign(private_pem, claims(aud="another-client"))
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await verifier.verify(token)
