"""The public keys of a Cognito user pool, fetched over HTTP and cached.

Cognito rotates its signing keys by publishing a new key id, so an unknown
`kid` is the signal to fetch the set again. To keep a flood of forged or stale
tokens from turning into a flood of requests, a fetch happens at most once per
`refresh_interval`; callers missing a key at the same moment queue on one
lock, so they share a single fetch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from userfacing_api.domain.errors import Unavailable
from userfacing_api.ports.clock import Clock

logger = logging.getLogger("userfacing_api.identity")

REFRESH_INTERVAL = timedelta(minutes=1)
MAX_JWKS_BYTES = 256 * 1024

_UNAVAILABLE = "The identity provider's signing keys cannot be fetched"


class JwksFetchError(Exception):
    """The key set could not be fetched or is not a JWKS document."""


class CognitoJwksSource:
    """A `JwksSource` reading `{"keys": [...]}` from `url` with the caller's session."""

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        clock: Clock,
        refresh_interval: timedelta = REFRESH_INTERVAL,
    ) -> None:
        self._url = url
        self._session = session
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._last_attempt: datetime | None = None
        self._last_attempt_failed = False
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> Mapping[str, Any] | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            if key is None and self._may_fetch():
                await self._fetch()
                key = self._keys.get(kid)
        if key is None and self._last_attempt_failed:
            raise Unavailable(_UNAVAILABLE)
        return key

    def _may_fetch(self) -> bool:
        if self._last_attempt is None:
            return True
        return self._clock.now() - self._last_attempt >= self._refresh_interval

    async def _fetch(self) -> None:
        self._last_attempt = self._clock.now()
        try:
            document = await self._download()
            self._keys = _keys_by_id(document)
        except (aiohttp.ClientError, TimeoutError, JwksFetchError) as err:
            self._last_attempt_failed = True
            logger.warning("fetching the signing keys from %s failed: %s", self._url, err)
            raise Unavailable(_UNAVAILABLE) from err
        self._last_attempt_failed = False
        logger.info("fetched %d signing key(s) from %s", len(self._keys), self._url)

    async def _download(self) -> Any:
        async with self._session.get(self._url) as response:
            if response.status != 200:
                raise JwksFetchError(f"HTTP status {response.status}")
            body = bytearray()
            async for chunk in response.content.iter_any():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksFetchError(f"the document is larger than {MAX_JWKS_BYTES} bytes")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise JwksFetchError("the document is not JSON") from err


def _keys_by_id(document: Any) -> dict[str, Mapping[str, Any]]:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise JwksFetchError("the document has no 'keys' list")
    return {
        key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)
    }
