"""The identity endpoints of the real application, with Cognito on the moto server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.integration.cognito_pool import PASSWORD, CognitoPool, cognito_client

Client = TestClient[web.Request, web.Application]

ALICE = "alice@example.org"


@pytest.fixture
def environ(environ: dict[str, str], cognito_pool: CognitoPool) -> dict[str, str]:
    """The embedded deployment, but with Cognito as identity provider."""
    return {**environ, **cognito_pool.environ()}


async def register(client: Client, username: str = ALICE, **fields: Any) -> Any:
    return await client.post("/user", data={"username": username, "password": PASSWORD, **fields})


async def id_token(client: Client, username: str = ALICE) -> str:
    issued = await client.post("/token", data={"username": username, "password": PASSWORD})
    assert issued.status == 201, await issued.text()
    token: str = (await issued.json())["id_token"]
    return token


async def test_access_info_names_the_pool_the_client_and_the_region(
    client: Client, cognito_pool: CognitoPool
) -> None:
    response = await client.get("/access_info")

    assert response.status == 200
    assert await response.json() == {
        "cognito": {
            "user_pool_id": cognito_pool.pool_id,
            "client_id": cognito_pool.client_id,
            "region": "us-east-1",
        }
    }


async def test_registering_creates_a_user_once_and_rejects_a_weak_password(
    client: Client,
) -> None:
    created = await register(client)
    again = await register(client)
    weak = await client.post("/user", data={"username": "bob@example.org", "password": "short"})

    assert created.status == 201
    assert await created.json() == {"email": ALICE, "groups": ["users"]}
    assert again.status == 409
    assert weak.status == 400
    assert "detail" in await weak.json()


async def test_registering_creates_the_users_folders(
    client: Client, environ: dict[str, str]
) -> None:
    await register(client)

    tree = Path(environ["USER_DATA_ROOT_PATH"]) / ALICE
    assert sorted(entry.name for entry in tree.iterdir()) == [
        "artifact",
        "config",
        "data",
        "log",
        "output",
    ]


async def test_a_token_is_issued_for_the_right_password_only(client: Client) -> None:
    await register(client)

    issued = await client.post("/token", data={"username": ALICE, "password": PASSWORD})
    wrong = await client.post("/token", data={"username": ALICE, "password": "Wrong-horse-9"})
    unknown = await client.post(
        "/token", data={"username": "nobody@example.org", "password": PASSWORD}
    )

    assert issued.status == 201
    body = await issued.json()
    assert set(body) == {"id_token", "expires_in"}
    assert body["expires_in"] == 3600
    assert wrong.status == 400
    assert unknown.status == 404


async def test_the_issued_token_identifies_the_user(client: Client) -> None:
    await register(client)
    token = await id_token(client)

    response = await client.get("/user", headers={"Authorization": f"Bearer {token}"})

    assert response.status == 200
    assert await response.json() == {"email": ALICE, "groups": ["users"]}


async def test_login_sets_the_token_cookie(client: Client) -> None:
    await register(client)

    response = await client.post("/login", data={"username": ALICE, "password": PASSWORD})

    assert response.status == 201
    cookie = response.cookies["Authorization"]
    assert cookie.value.startswith("Bearer ")
    assert cookie["httponly"]


async def test_a_client_logging_in_with_cognito_itself_is_recognised(client: Client) -> None:
    await register(client)
    info = (await (await client.get("/access_info")).json())["cognito"]
    login = await asyncio.to_thread(
        cognito_client().initiate_auth,
        ClientId=info["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ALICE, "PASSWORD": PASSWORD},
    )
    token = login["AuthenticationResult"]["IdToken"]

    response = await client.get("/user", headers={"Authorization": f"Bearer {token}"})

    assert response.status == 200
    assert (await response.json())["email"] == ALICE


async def test_a_user_outside_the_users_group_is_forbidden(client: Client) -> None:
    created = await register(client, groups="guests")
    token = await id_token(client)

    response = await client.get("/user", headers={"Authorization": f"Bearer {token}"})

    assert created.status == 201
    assert await created.json() == {"email": ALICE, "groups": ["guests"]}
    assert response.status == 403


async def test_a_forged_token_is_unauthenticated(client: Client) -> None:
    await register(client)
    header, payload, _ = (await id_token(client)).split(".")

    response = await client.get(
        "/user", headers={"Authorization": f"Bearer {header}.{payload}.c2lnbmF0dXJl"}
    )

    assert response.status == 401
