"""The in-process event signal: streams of this process wait here for their user's news.

Each open stream holds one `asyncio.Event`; leaving `subscribe` removes it, so
a closed stream leaves nothing behind. Who calls `notify` depends on the
database: the SQLite store after each commit, the PostgreSQL listener for
every notification of any instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from userfacing_api.ports.events import EventSignal, Subscription


class _Waiter(Subscription):
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.event.wait()
        self.event.clear()


Topic = tuple[str, int | None]
"""A user's id and one of their jobs, or None for all of them."""


class LocalEventSignal(EventSignal):
    def __init__(self) -> None:
        self._waiters: dict[Topic, set[_Waiter]] = {}

    @contextmanager
    def subscribe(self, user_id: str, job_id: int | None = None) -> Iterator[Subscription]:
        topic = (user_id, job_id)
        waiter = _Waiter()
        self._waiters.setdefault(topic, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters[topic]
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[topic]

    def notify(self, changed: Iterable[tuple[str, int]]) -> None:
        """New events of these `(user_id, job_id)`: wake the job's streams and the user's."""
        for user_id, job_id in changed:
            for topic in ((user_id, job_id), (user_id, None)):
                for waiter in self._waiters.get(topic, ()):
                    waiter.event.set()

    def notify_everyone(self) -> None:
        """Wake every stream to look again (notifications may have been missed)."""
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.event.set()
