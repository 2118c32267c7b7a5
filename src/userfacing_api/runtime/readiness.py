"""Readiness: whether the parts the service cannot work without answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from userfacing_api.domain.errors import Unavailable

logger = logging.getLogger(__name__)

Ping = Callable[[], Awaitable[None]]


class ReadinessService:
    def __init__(self, pings: Mapping[str, Ping], timeout_seconds: float = 5.0) -> None:
        self._pings = dict(pings)
        self._timeout = timeout_seconds

    async def check(self) -> None:
        """Return when every part answers in time; `Unavailable` names the first that does not."""
        for name, ping in self._pings.items():
            try:
                async with asyncio.timeout(self._timeout):
                    await ping()
            except Exception as err:
                logger.warning("not ready: the %s does not answer (%s)", name, type(err).__name__)
                raise Unavailable(f"The {name} is not available") from err
