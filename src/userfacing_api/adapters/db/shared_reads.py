"""Reads of one row by id that share a query with the reads made at the same moment.

The busiest requests read one job each: a job's page and the workers' status
reports. Each read on its own costs a connection taken from the pool and given
back, a round trip to the server and the driver's work on both ends, which is
more than the service's own work on the request. Reads asked for while the
event loop is busy with other requests wait until it has run what is ready now,
then leave together as one query for all their ids, and each caller gets its own
row; those asked for while that query is under way leave together in the next.
A busy service makes about one query per round trip to the database instead of
one per request; an idle one sends each read at once, as before.

One query under way at a time, on either engine. SQLite's one reading thread
would run a second only after the first anyway. PostgreSQL could run several
side by side, but each query costs the service a pooled connection taken and
given back and the driver's work on both ends, whatever the number of ids it
carries: reads that wait for the next query make it larger rather than adding
one, and a lookup by key is over long before anyone notices the wait. A query
that hangs ends within the statement deadline, failing only the reads it carries.

Every read still goes to the database after it was asked for, so it sees every
change committed before: only the query is shared, never an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from userfacing_api.adapters.db.session import Row

MAX_IDS = 500
"""Ids in one query at most; more leave in the next one."""

FetchRows = Callable[[list[int]], Awaitable[Sequence[Row]]]
"""The rows of the given ids (in any order, none for an id that names no row)."""


class SharedReads:
    """Rows by id through `fetch_rows`, whose first column is the id."""

    def __init__(self, fetch_rows: FetchRows, max_ids: int = MAX_IDS) -> None:
        if max_ids <= 0:
            raise ValueError("max_ids must be positive")
        self._fetch_rows = fetch_rows
        self._max_ids = max_ids
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[int, list[asyncio.Future[Row | None]]] = {}
        self._query: asyncio.Future[Sequence[Row]] | None = None
        self._departure_planned = False

    async def row(self, row_id: int) -> Row | None:
        """The row of `row_id`, or None."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (tests start one each): what waited on an older one stays there.
            self._loop, self._waiting, self._query = loop, {}, None
            self._departure_planned = False
        future: asyncio.Future[Row | None] = loop.create_future()
        self._waiting.setdefault(row_id, []).append(future)
        self._plan_departure(loop)
        return await future

    def _plan_departure(self, loop: asyncio.AbstractEventLoop) -> None:
        """Leave once the loop has run what is ready now, so that its reads come along."""
        if self._waiting and not self._departure_planned and self._query is None:
            self._departure_planned = True
            loop.call_soon(self._depart, loop)

    def _depart(self, loop: asyncio.AbstractEventLoop) -> None:
        self._departure_planned = False
        leaving: dict[int, list[asyncio.Future[Row | None]]] = {}
        for row_id in list(self._waiting):
            if len(leaving) == self._max_ids:
                break
            # A caller that gave up meanwhile (a client that left) needs no row.
            futures = [future for future in self._waiting.pop(row_id) if not future.done()]
            if futures:
                leaving[row_id] = futures
        if leaving:
            # A fetch that gives a future (a trip to a thread) is awaited as it is: a task
            # of its own would cost two more turns of the loop per query.
            query = asyncio.ensure_future(self._fetch_rows(list(leaving)), loop=loop)
            self._query = query
            query.add_done_callback(lambda done: self._arrived(done, leaving))
        self._plan_departure(loop)

    def _arrived(
        self,
        query: asyncio.Future[Sequence[Row]],
        leaving: dict[int, list[asyncio.Future[Row | None]]],
    ) -> None:
        if query is self._query:
            self._query = None
        if query.cancelled():  # before it could answer anyone (the loop shutting down)
            for futures in leaving.values():
                _settle(futures, error=asyncio.CancelledError())
        elif (failure := query.exception()) is not None:
            for futures in leaving.values():
                _settle(futures, error=failure)
        else:
            by_id: dict[Any, Row] = {next(iter(row)): row for row in query.result()}
            for row_id, futures in leaving.items():
                _settle(futures, row=by_id.get(row_id))
        if self._loop is not None and not self._loop.is_closed():
            self._plan_departure(self._loop)


def _settle(
    futures: list[asyncio.Future[Row | None]],
    row: Row | None = None,
    error: BaseException | None = None,
) -> None:
    for future in futures:
        if future.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(row)
