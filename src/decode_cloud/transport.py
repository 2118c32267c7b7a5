"""One HTTP connection to the service: the session, the id token, and errors as exceptions."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import aiohttp

from decode_cloud import cognito
from decode_cloud.credentials import Credentials, CredentialStore
from decode_cloud.errors import ApiError, LoginFailed, NotLoggedIn, Unreachable

RENEW_MARGIN_SECONDS = 120
"""A Cognito id token this close to its expiry is renewed before the next request."""
CONNECT_TIMEOUT = 30
READ_TIMEOUT = 300
"""Longest silence while reading an answer; streams of job events are exempt."""
USER_AGENT = "decode-cloud"


def remote_path(path: str) -> str:
    """A user path as the API takes it: no leading slash, no empty or `.` segments."""
    trailing = "/" if path.endswith("/") else ""
    parts = [part for part in path.strip().split("/") if part not in ("", ".")]
    return "/".join(parts) + (trailing if parts else "")


def url_path(*segments: str) -> str:
    """Join path pieces of a request URL, percent-encoding each."""
    return "/" + "/".join(quote(segment, safe="/") for segment in segments)


async def raise_for_answer(response: aiohttp.ClientResponse) -> None:
    """An `ApiError` carrying the service's `detail` for any status of 400 or more."""
    if response.status < 400:
        return
    body = await response.text(errors="replace")
    detail: Any = body.strip() or response.reason or "no detail"
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "detail" in parsed:
        detail = parsed["detail"]
    raise ApiError(response.status, detail)


class Connection:
    """Requests to one service URL, signed with the cached id token of that URL."""

    def __init__(
        self,
        url: str,
        credentials: Credentials | None,
        store: CredentialStore | None,
        session: aiohttp.ClientSession,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self._store = store
        self.session = session

    async def authorization(self) -> dict[str, str]:
        credentials = self.credentials
        if credentials is None:
            raise NotLoggedIn(f"not logged in to {self.url}; run `decode-cloud login`")
        if credentials.expires_at - RENEW_MARGIN_SECONDS <= time.time():
            if credentials.cognito is None:
                raise LoginFailed(f"the login at {self.url} expired; run `decode-cloud login`")
            credentials = await cognito.refresh(self.session, credentials)
            self.credentials = credentials
            if self._store is not None:
                self._store.save(credentials, make_default=False)
        return {"Authorization": f"Bearer {credentials.id_token}"}

    @asynccontextmanager
    async def request(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        headers: Mapping[str, str] | None = None,
        allow: frozenset[int] = frozenset(),
        read_timeout: float | None = READ_TIMEOUT,
        **options: Any,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The answer to `method path`; statuses of 400 or more raise unless in `allow`."""
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if authenticated:
            sent.update(await self.authorization())
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT, sock_read=read_timeout
        )
        target = path if path.startswith(("http://", "https://")) else self.url + path
        try:
            async with self.session.request(
                method, target, headers=sent, timeout=timeout, **options
            ) as response:
                if response.status not in allow:
                    await raise_for_answer(response)
                yield response
        except (aiohttp.ClientError, TimeoutError) as err:
            # Refused connections, broken streams and read timeouts alike.
            raise Unreachable(f"cannot reach {self.url}: {err or type(err).__name__}") from err

    async def json(self, method: str, path: str, **options: Any) -> Any:
        async with self.request(method, path, **options) as response:
            if response.status == 204:
                return None
            return await response.json(content_type=None)
