"""Work that outlives the request that started it, tracked so shutdown can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` on its own; failures are logged. After `close` it is dropped."""
        if self._closed:
            work.close()
            logger.warning("%s dropped: the service is shutting down", name)
            return
        task = asyncio.create_task(self._logged(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Refuse new work, wait up to `grace_seconds` for running work, cancel the rest."""
        self._closed = True
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, late = await asyncio.wait(pending, timeout=grace_seconds)
        for task in late:
            task.cancel()
        if late:
            logger.warning("cancelled %d background task(s) at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:
            logger.exception("%s failed", name)
