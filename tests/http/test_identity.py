"""The Identity section of the HTTP contract, through the real application."""

from __future__ import annotations

import base64
import json
import time
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jose import jwt

from tests.conftest import ClientFactory, TokenFactory
from tests.http.validation import validation_errors
from userfacing_api.adapters.clock import SystemClock
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.identity.local import DEFAULT_AUDIENCE
from userfacing_api.adapters.identity.signing_key import (
    LOCAL_KID,
    ensure_signing_key,
    generate_private_pem,
)
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.settings import Settings, load_settings

Client = TestClient[web.Request, web.Application]

PASSWORD = "Correct-horse-9"


@pytest.fixture
def identity() -> Identity | None:
    """The real local identity: its tokens, keys and passwords are what these tests are about."""
    return None


async def persisted_private_pem(settings: Settings) -> str:
    """The key the running service signs with, read from its database."""
    async with open_database(settings.database.url) as database:
        return (await ensure_signing_key(database.signing_keys, SystemClock())).private_pem


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "5f0c7d1e-user",
        "cognito:username": "5f0c7d1e-user",
        "email": "mallory@example.org",
        "cognito:groups": ["users"],
        "token_use": "id",
        "iss": settings.identity.local_token_issuer,
        "aud": settings.identity.cognito_client_id or DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def bearer(pem: str, payload: dict[str, Any]) -> dict[str, str]:
    token = jwt.encode(payload, pem, algorithm="RS256", headers={"kid": LOCAL_KID})
    return {"Authorization": f"Bearer {token}"}


def unsigned(payload: dict[str, Any]) -> dict[str, str]:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'kid': LOCAL_KID})}.{part(payload)}."
    return {"Authorization": f"Bearer {token}"}


async def register(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    form: list[tuple[str, str]] = [("username", username), ("password", password)]
    form += [("groups", group) for group in extra.get("groups", [])]
    return await client.post("/user", data=form)


async def test_access_info_needs_no_token_and_tells_the_cognito_pool(
    aiohttp_client: ClientFactory, environ: dict[str, str]
) -> None:
    environ.update(
        AUTH_PROVIDER="local",
        COGNITO_USER_POOL_ID="eu-central-1_AbCdEf",
        COGNITO_CLIENT_ID="client-123",
        COGNITO_REGION="eu-central-1",
    )
    client = await aiohttp_client(create_app(load_settings(environ)))

    response = await client.get("/access_info")

    assert response.status == 200
    assert await response.json() == {
        "cognito": {
            "user_pool_id": "eu-central-1_AbCdEf",
            "client_id": "client-123",
            "region": "eu-central-1",
        }
    }


async def test_access_info_has_nulls_without_a_cognito_pool(client: Client) -> None:
    response = await client.get("/access_info")

    assert response.status == 200
    assert await response.json() == {
        "cognito": {"user_pool_id": None, "client_id": None, "region": None}
    }


async def test_get_user_tells_the_callers_email_and_groups(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers("alice@example.org", groups=["users", "admins"])

    response = await client.get("/user", headers=headers)

    assert response.status == 200
    assert await response.json() == {"email": "alice@example.org", "groups": ["users", "admins"]}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing header"),
        pytest.param({"Authorization": ""}, id="empty header"),
        pytest.param({"Authorization": "Basic YWxpY2U6cHc="}, id="basic scheme"),
        pytest.param({"Authorization": "Bearer"}, id="bearer without token"),
        pytest.param({"Authorization": "Bearer not.a.token"}, id="garbage token"),
        pytest.param({"Authorization": "Bearer " + "x" * 4000}, id="huge garbage"),
    ],
)
async def test_get_user_without_a_usable_token_is_401(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.get("/user", headers=headers)

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = await response.json()
    assert set(body) == {"detail"}
    assert "not.a.token" not in body["detail"]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": int(time.time()) - 10, "iat": int(time.time()) - 700}, id="expired"),
        pytest.param({"iss": "https://cognito-idp.eu-central-1.amazonaws.com/x"}, id="wrong iss"),
        pytest.param({"aud": "another-client"}, id="wrong audience"),
        pytest.param({"token_use": "access"}, id="access token"),
    ],
)
async def test_a_token_signed_with_the_service_key_but_bad_claims_is_401(
    client: Client, settings: Settings, changes: dict[str, Any]
) -> None:
    headers = bearer(await persisted_private_pem(settings), claims(settings, **changes))

    response = await client.get("/user", headers=headers)

    assert response.status == 401


@pytest.mark.parametrize("claim", ["iat", "nbf"])
async def test_a_token_valid_only_more_than_a_minute_from_now_is_401(
    client: Client, settings: Settings, claim: str
) -> None:
    ahead = claims(settings, **{claim: int(time.time()) + 300})
    headers = bearer(await persisted_private_pem(settings), ahead)

    response = await client.get("/user", headers=headers)

    assert response.status == 401
    assert (await response.json())["detail"] == "Token not yet valid"


async def test_a_token_signed_by_another_key_under_the_service_kid_is_401(
    client: Client, settings: Settings
) -> None:
    response = await client.get("/user", headers=bearer(generate_private_pem(), claims(settings)))

    assert response.status == 401


async def test_an_unsigned_token_is_401(client: Client, settings: Settings) -> None:
    response = await client.get("/user", headers=unsigned(claims(settings)))

    assert response.status == 401


async def test_a_minted_token_with_the_service_key_is_accepted(
    client: Client, settings: Settings
) -> None:
    """The control for the 401 cases above: only the changed claim makes them fail."""
    headers = bearer(await persisted_private_pem(settings), claims(settings))

    response = await client.get("/user", headers=headers)

    assert response.status == 200
    assert await response.json() == {"email": "mallory@example.org", "groups": ["users"]}


async def test_a_user_outside_the_users_group_is_403(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers("bob@example.org", groups=["other"])

    response = await client.get("/user", headers=headers)

    assert response.status == 403
    assert "users" in (await response.json())["detail"]


async def test_a_token_without_groups_claim_is_403(client: Client, settings: Settings) -> None:
    payload = claims(settings, **{"cognito:groups": None})
    headers = bearer(await persisted_private_pem(settings), payload)

    response = await client.get("/user", headers=headers)

    assert response.status == 403


async def test_registering_a_user_puts_them_in_the_users_group_by_default(
    client: Client,
) -> None:
    response = await register(client, "carol@example.org")

    assert response.status == 201
    assert await response.json() == {"email": "carol@example.org", "groups": ["users"]}


async def test_registering_a_user_with_groups_keeps_them(client: Client) -> None:
    response = await register(client, "dave@example.org", groups=["users", "admins"])

    assert response.status == 201
    assert await response.json() == {"email": "dave@example.org", "groups": ["users", "admins"]}


async def test_registering_a_taken_username_is_409(client: Client) -> None:
    assert (await register(client, "erin@example.org")).status == 201

    response = await register(client, "erin@example.org", "Another-pass-2")

    assert response.status == 409
    assert "already exists" in (await response.json())["detail"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [("Sh0rt", "at least 8"), ("alllowercase1", "upper-case"), ("No-digits-at-all", "digit")],
)
async def test_registering_with_a_rejected_password_is_400_with_the_reason(
    client: Client, password: str, reason: str
) -> None:
    response = await register(client, "frank@example.org", password)

    assert response.status == 400
    assert reason in (await response.json())["detail"]
    assert (
        await client.post("/token", data={"username": "frank@example.org", "password": password})
    ).status == 404


async def test_registering_without_a_password_is_422(client: Client) -> None:
    response = await client.post("/user", data={"username": "gina@example.org"})

    assert await validation_errors(response) == [(["form", "password"], "Field required")]


async def test_a_token_is_issued_for_the_right_password(client: Client, settings: Settings) -> None:
    await register(client, "hank@example.org")

    response = await client.post(
        "/token",
        data={
            "grant_type": "password",
            "username": "hank@example.org",
            "password": PASSWORD,
            "scope": "",
        },
    )

    assert response.status == 201
    body = await response.json()
    assert set(body) == {"id_token", "expires_in"}
    assert body["expires_in"] == settings.identity.local_token_lifetime
    me = await client.get("/user", headers={"Authorization": f"Bearer {body['id_token']}"})
    assert await me.json() == {"email": "hank@example.org", "groups": ["users"]}


async def test_a_token_for_a_wrong_password_is_400(client: Client) -> None:
    await register(client, "ivy@example.org")

    response = await client.post(
        "/token", data={"username": "ivy@example.org", "password": "Correct-horse-8"}
    )

    assert response.status == 400
    assert set(await response.json()) == {"detail"}


async def test_a_token_for_an_unknown_user_is_404(client: Client) -> None:
    response = await client.post(
        "/token", data={"username": "nobody@example.org", "password": PASSWORD}
    )

    assert response.status == 404


async def test_login_sets_the_token_in_a_secure_http_only_cookie(client: Client) -> None:
    await register(client, "jack@example.org")

    response = await client.post(
        "/login", data={"username": "jack@example.org", "password": PASSWORD}
    )

    assert response.status == 201
    assert set(await response.json()) == {"message"}
    raw = response.headers["Set-Cookie"]
    assert raw.startswith('Authorization="Bearer ')
    morsel = SimpleCookie(raw)["Authorization"]
    assert morsel.value.startswith("Bearer ")
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "None"
    assert morsel["max-age"] == "1800"
    me = await client.get("/user", headers={"Cookie": f"Authorization={morsel.coded_value}"})
    assert await me.json() == {"email": "jack@example.org", "groups": ["users"]}


async def test_login_with_a_wrong_password_sets_no_cookie(client: Client) -> None:
    await register(client, "kate@example.org")

    response = await client.post(
        "/login", data={"username": "kate@example.org", "password": "Wrong-horse-9"}
    )

    assert response.status == 400
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/user", "/token", "/login"])
async def test_without_auth_the_local_user_endpoints_do_not_exist(
    aiohttp_client: ClientFactory, environ: dict[str, str], path: str
) -> None:
    environ.pop("AUTH")
    client = await aiohttp_client(create_app(load_settings(environ)))

    response = await client.post(path, data={"username": "liz@example.org", "password": PASSWORD})

    assert response.status == 404
    assert (await client.get("/access_info")).status == 200


async def test_the_api_docs_list_the_identity_endpoints(client: Client) -> None:
    response = await client.get("/docs/swagger.json")

    assert response.status == 200
    paths = (await response.json())["paths"]
    for path, method in [
        ("/access_info", "get"),
        ("/user", "get"),
        ("/user", "post"),
        ("/token", "post"),
        ("/login", "post"),
    ]:
        assert paths[path][method]["tags"] == ["Authentication"], (path, method)
    form = {param["name"]: param for param in paths["/user"]["post"]["parameters"]}
    assert {name: form[name]["in"] for name in ("username", "password", "groups")} == {
        "username": "formData",
        "password": "formData",
        "groups": "formData",
    }
    assert paths["/access_info"]["get"]["security"] == []


async def test_without_auth_the_docs_leave_the_local_user_endpoints_out(
    aiohttp_client: ClientFactory, environ: dict[str, str]
) -> None:
    environ.pop("AUTH")
    client = await aiohttp_client(create_app(load_settings(environ)))

    paths = (await (await client.get("/docs/swagger.json")).json())["paths"]

    assert "/token" not in paths
    assert "/login" not in paths
    assert "post" not in paths["/user"]
    assert "get" in paths["/user"]
