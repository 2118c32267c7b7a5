"""Sweeping what interrupted uploads leave in the storage: at start-up, then periodically.

A process killed in the middle of an upload (`kill -9`, a crash, a lost machine)
never cleans up after it: the storage's `sweep_leftovers` removes such remains
once they are old enough that no upload still running can own them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from userfacing_api.domain.errors import DomainError
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.storage import FileStorage

logger = logging.getLogger(__name__)


class LeftoverSweeps:
    def __init__(self, storage: FileStorage, clock: Clock, interval_seconds: float) -> None:
        self._storage = storage
        self._clock = clock
        self._interval = interval_seconds

    async def sweep(self) -> int:
        """One sweep; failures are logged (the next sweep tries again)."""
        try:
            removed = await self._storage.sweep_leftovers(self._clock.now())
        except DomainError as err:
            logger.warning("leftovers of interrupted uploads not swept: %s", err.detail)
            return 0
        if removed:
            logger.info("removed %d leftover(s) of interrupted uploads", removed)
        return removed

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Sweep now and every `interval_seconds` while the block runs."""
        task = asyncio.create_task(self._run(), name="leftover sweeps")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self._interval)
