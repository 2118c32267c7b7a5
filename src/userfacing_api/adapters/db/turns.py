"""Turns on a database's connections: first come, first served, each wait bounded.

SQLite has one writing connection, PostgreSQL a pool of them. A statement that
finds one free takes it at once; the others wait in the order they came (the
pool's own queue would let a newcomer take a connection just given back ahead
of those already waiting), each at most `timeout` seconds, then the database
counts as busy. The deadlines are kept by one timer, set for the longest-waiting
caller, rather than one timer per wait: on the busiest endpoints a timer per
request costs as much as a small part of the request itself.
"""

from __future__ import annotations

import asyncio
from collections import deque

from userfacing_api.ports.database import DatabaseUnavailable

BUSY = "The database is busy"


class Turns:
    """At most `size` holders at once; `take` waits its turn, `give_back` ends one."""

    def __init__(self, size: int, timeout: float) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        self._free = size
        self._timeout = timeout
        # Waiting callers in arrival order, each with its deadline (loop time).
        self._waiting: deque[tuple[asyncio.Future[None], float]] = deque()
        self._deadline_timer: asyncio.TimerHandle | None = None

    async def take(self) -> None:
        """A turn; `DatabaseUnavailable` when none comes within the timeout."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append((turn, loop.time() + self._timeout))
        if self._deadline_timer is None:
            self._deadline_timer = loop.call_at(self._waiting[0][1], self._expire, loop)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self.give_back()  # handed over just as its caller gave up: pass it on
            raise

    def give_back(self) -> None:
        """End a turn: the longest-waiting caller gets it, or it is free again."""
        while self._waiting:
            turn, _ = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail the waits whose deadline has passed; set the timer for the next one."""
        now = loop.time()
        while self._waiting and (self._waiting[0][0].done() or self._waiting[0][1] <= now):
            turn, _ = self._waiting.popleft()
            if not turn.done():
                turn.set_exception(DatabaseUnavailable(BUSY))
        self._deadline_timer = (
            loop.call_at(self._waiting[0][1], self._expire, loop) if self._waiting else None
        )
