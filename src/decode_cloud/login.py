"""Getting an id token: from the service's own provider, or from Cognito directly.

`GET /access_info` names the Cognito pool of a deployment; a deployment without one
(empty pool) issues tokens itself through `POST /token` (its local provider).
"""

from __future__ import annotations

import time

import aiohttp

from decode_cloud import cognito
from decode_cloud.credentials import CognitoPool, Credentials
from decode_cloud.errors import ApiError, LoginFailed
from decode_cloud.transport import Connection


async def cognito_pool(connection: Connection) -> CognitoPool | None:
    """The pool `GET /access_info` names, or None when the deployment has none."""
    info = await connection.json("GET", "/access_info", authenticated=False)
    pool = info.get("cognito") if isinstance(info, dict) else None
    if not isinstance(pool, dict):
        return None
    values = [pool.get(key) for key in ("user_pool_id", "client_id", "region")]
    if not all(isinstance(value, str) and value for value in values):
        return None
    return CognitoPool(*(str(value) for value in values))


async def log_in(
    session: aiohttp.ClientSession,
    url: str,
    username: str,
    password: str,
    provider: str | None = None,
) -> Credentials:
    """Credentials for `username` at `url`; `provider` forces `local` or `cognito`."""
    connection = Connection(url, None, None, session)
    pool = await cognito_pool(connection)
    if provider == "cognito" and pool is None:
        raise LoginFailed(f"{url} names no Cognito pool in /access_info")
    if pool is not None and provider != "local":
        return await cognito.password_login(session, url, pool, username, password)
    try:
        answer = await connection.json(
            "POST",
            "/token",
            authenticated=False,
            data={"username": username, "password": password},
        )
    except ApiError as err:
        raise LoginFailed(f"login refused: {err}") from err
    return Credentials(
        url=url,
        username=username,
        id_token=str(answer["id_token"]),
        expires_at=time.time() + float(answer.get("expires_in", 3600)),
    )
