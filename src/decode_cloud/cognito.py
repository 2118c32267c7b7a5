"""Amazon Cognito's `InitiateAuth` over plain HTTP (its JSON 1.1 API), without an AWS SDK.

`USER_PASSWORD_AUTH` needs no AWS credentials, only the pool's app client id, so a
scientist's machine needs nothing but the password. The endpoint follows the AWS
SDK's own overrides (`AWS_ENDPOINT_URL_COGNITO_IDP`, then `AWS_ENDPOINT_URL`), which is
how the client is pointed at a stand-in such as moto.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from decode_cloud.credentials import CognitoPool, Credentials
from decode_cloud.errors import LoginFailed, Unreachable

TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"
CONTENT_TYPE = "application/x-amz-json-1.1"


def cognito_endpoint(region: str, environ: Mapping[str, str] = os.environ) -> str:
    override = environ.get("AWS_ENDPOINT_URL_COGNITO_IDP") or environ.get("AWS_ENDPOINT_URL")
    return (override or f"https://cognito-idp.{region}.amazonaws.com").rstrip("/") + "/"


async def _initiate_auth(
    session: aiohttp.ClientSession, pool: CognitoPool, flow: str, parameters: dict[str, str]
) -> dict[str, Any]:
    body = {"AuthFlow": flow, "ClientId": pool.client_id, "AuthParameters": parameters}
    headers = {"X-Amz-Target": TARGET, "Content-Type": CONTENT_TYPE}
    try:
        async with session.post(
            cognito_endpoint(pool.region), json=body, headers=headers
        ) as response:
            answer = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientConnectionError, TimeoutError) as err:
        raise Unreachable(f"cannot reach Cognito: {err}") from err
    except ValueError as err:
        raise LoginFailed("Cognito answered something that is not JSON") from err
    if status != 200 or not isinstance(answer, dict):
        kind = str(answer.get("__type", "")) if isinstance(answer, dict) else ""
        message = answer.get("message") or answer.get("Message") if isinstance(answer, dict) else ""
        raise LoginFailed(f"Cognito refused the login: {kind.split('#')[-1]} {message}".strip())
    result = answer.get("AuthenticationResult")
    if not isinstance(result, dict) or "IdToken" not in result:
        challenge = answer.get("ChallengeName", "an unsupported step")
        raise LoginFailed(f"Cognito asks for {challenge}; finish it in the web frontend first")
    return result


def _credentials(
    url: str, username: str, pool: CognitoPool, result: dict[str, Any], refresh_token: str | None
) -> Credentials:
    return Credentials(
        url=url,
        username=username,
        id_token=str(result["IdToken"]),
        expires_at=time.time() + float(result.get("ExpiresIn", 3600)),
        refresh_token=result.get("RefreshToken") or refresh_token,
        cognito=pool,
    )


async def password_login(
    session: aiohttp.ClientSession, url: str, pool: CognitoPool, username: str, password: str
) -> Credentials:
    result = await _initiate_auth(
        session, pool, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}
    )
    return _credentials(url, username, pool, result, None)


async def refresh(session: aiohttp.ClientSession, credentials: Credentials) -> Credentials:
    """A new id token from the refresh token; the refresh token itself is kept."""
    pool = credentials.cognito
    if pool is None or not credentials.refresh_token:
        raise LoginFailed(f"the login at {credentials.url} expired; run `decode-cloud login`")
    result = await _initiate_auth(
        session, pool, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": credentials.refresh_token}
    )
    return _credentials(
        credentials.url, credentials.username, pool, result, credentials.refresh_token
    )
