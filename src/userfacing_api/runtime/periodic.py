"""Housekeeping that runs at start-up and then at a fixed interval while the service runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

logger = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        work: Callable[[], Awaitable[Any]],
        interval_seconds: float,
        name: str | None = None,
    ) -> None:
        self._work = work
        self._interval = interval_seconds
        self._name = name or f"periodic {work!r}"

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the work in a task for the duration of the block; cancel it on exit."""
        task = asyncio.create_task(self._run(), name=self._name)
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._work()
            except Exception:
                logger.exception("periodic housekeeping failed")
            await asyncio.sleep(self._interval)
