"""Sweeping what interrupted uploads leave in the storage: at start-up, then periodically.

A process killed in the middle of an upload (`kill -9`, a crash, a lost machine)
never cleans up after it: the storage's `sweep_leftovers` removes such remains
once they are old enough that no upload still running can own them.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager

from userfacing_api.domain.errors import DomainError
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.storage import FileStorage
from userfacing_api.runtime.periodic import Periodic

logger = logging.getLogger(__name__)


class LeftoverSweeps:
    def __init__(self, storage: FileStorage, clock: Clock, interval_seconds: float) -> None:
        self._storage = storage
        self._clock = clock
        self._periodic = Periodic(self.sweep, interval_seconds, name="leftover sweeps")

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

    def running(self) -> AbstractAsyncContextManager[None]:
        """Sweep now and every `interval_seconds` while the block runs."""
        return self._periodic.running()
