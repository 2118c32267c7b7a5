"""Events recorded by any instance reach this one's streams through `LISTEN` (asyncpg).

One connection of its own per instance listens on the events channel and
passes each notification (`<job id>:<user id>`) to the local signal. When the
connection is lost, it reconnects with back-off and then wakes every stream,
because notifications sent meanwhile are gone; the streams read the history
table again, so nothing is lost, only delayed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from userfacing_api.adapters.db.postgres.database import EVENTS_CHANNEL
from userfacing_api.adapters.event_signal import LocalEventSignal

logger = logging.getLogger(__name__)

_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
MAX_RECONNECT_PAUSE = 10.0


@asynccontextmanager
async def listening(url: str, signal: LocalEventSignal) -> AsyncIterator[None]:
    """Feed `signal` from the database's notifications while the block runs."""
    task = asyncio.create_task(_listen(url, signal), name="job events listener")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def _listen(url: str, signal: LocalEventSignal) -> None:
    pause = 0.5
    while True:
        lost = asyncio.Event()
        try:
            connection: asyncpg.Connection = await asyncpg.connect(url, timeout=10)
        except _FAILURES as err:
            logger.warning("job events listener cannot connect (%s); retrying", type(err).__name__)
        else:
            try:
                await _follow(connection, signal, lost)
                pause = 0.5
            except _FAILURES as err:
                logger.warning("job events listener lost its connection (%s)", type(err).__name__)
            finally:
                await asyncio.shield(_close(connection))
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_RECONNECT_PAUSE)


async def _follow(
    connection: asyncpg.Connection, signal: LocalEventSignal, lost: asyncio.Event
) -> None:
    def notified(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        job_id, _, user_id = payload.partition(":")
        signal.notify(((user_id, int(job_id)),))

    connection.add_termination_listener(lambda _connection: lost.set())
    await connection.add_listener(EVENTS_CHANNEL, notified)
    # Anything recorded while nobody listened is found by looking again.
    signal.notify_everyone()
    await lost.wait()


async def _close(connection: asyncpg.Connection) -> None:
    with suppress(*_FAILURES):
        await connection.close(timeout=2)
