"""Reads of one row by id that share queries still answer each caller with its own row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from tests.waiting import eventually
from userfacing_api.adapters.db.session import Row
from userfacing_api.adapters.db.shared_reads import SharedReads
from userfacing_api.ports.database import DatabaseUnavailable

# Rows as a database hands them out: the id first.
TABLE: dict[int, Any] = {id_: (id_, f"row {id_}") for id_ in range(1, 100)}


class Rows:
    """A table whose queries are recorded, and held until released when `hold` is set."""

    def __init__(self, hold: bool = False) -> None:
        self.queries: list[list[int]] = []
        self.failure: Exception | None = None
        self._release = asyncio.Event()
        if not hold:
            self._release.set()

    async def __call__(self, ids: list[int]) -> Sequence[Row]:
        self.queries.append(ids)
        await self._release.wait()
        if self.failure is not None:
            raise self.failure
        # In an order of their own, as a database may return them.
        return [TABLE[id_] for id_ in sorted(ids, reverse=True) if id_ in TABLE]

    def release(self) -> None:
        self._release.set()


async def test_reads_made_together_share_one_query_and_get_their_own_rows() -> None:
    rows = Rows()
    reads = SharedReads(rows)

    got = await asyncio.gather(reads.row(3), reads.row(7), reads.row(3), reads.row(500))

    assert list(got) == [TABLE[3], TABLE[7], TABLE[3], None]
    assert rows.queries == [[3, 7, 500]]


async def test_a_lone_read_leaves_at_once() -> None:
    rows = Rows()
    reads = SharedReads(rows)

    assert await reads.row(5) == TABLE[5]
    assert await reads.row(6) == TABLE[6]

    assert rows.queries == [[5], [6]]


async def test_reads_made_while_a_query_is_under_way_leave_together_in_the_next() -> None:
    rows = Rows(hold=True)
    reads = SharedReads(rows)
    first = asyncio.ensure_future(reads.row(1))
    await eventually(lambda: rows.queries == [[1]])

    later = [asyncio.ensure_future(reads.row(id_)) for id_ in (2, 3, 4)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert rows.queries == [[1]]
    rows.release()

    assert await first == TABLE[1]
    assert await asyncio.gather(*later) == [TABLE[2], TABLE[3], TABLE[4]]
    assert rows.queries == [[1], [2, 3, 4]]


async def test_a_query_takes_at_most_max_ids() -> None:
    rows = Rows()
    reads = SharedReads(rows, max_ids=2)

    got = await asyncio.gather(*(reads.row(id_) for id_ in (1, 2, 3, 4, 5)))

    assert got == [TABLE[id_] for id_ in (1, 2, 3, 4, 5)]
    assert [len(query) for query in rows.queries] == [2, 2, 1]


async def test_a_failed_query_fails_each_of_its_readers_and_not_the_next() -> None:
    rows = Rows()
    rows.failure = DatabaseUnavailable("The database is busy")
    reads = SharedReads(rows)

    outcomes = await asyncio.gather(reads.row(1), reads.row(2), return_exceptions=True)

    assert [type(outcome) for outcome in outcomes] == [DatabaseUnavailable] * 2
    rows.failure = None
    assert await reads.row(1) == TABLE[1]


async def test_a_reader_that_gives_up_leaves_the_others_their_rows() -> None:
    rows = Rows(hold=True)
    reads = SharedReads(rows)
    leaving = asyncio.ensure_future(reads.row(1))
    staying = asyncio.ensure_future(reads.row(2))
    await eventually(lambda: rows.queries == [[1, 2]])

    leaving.cancel()
    rows.release()

    assert await staying == TABLE[2]
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_reader_that_gave_up_before_departure_is_left_out() -> None:
    rows = Rows()
    reads = SharedReads(rows)
    leaving = asyncio.ensure_future(reads.row(1))
    staying = asyncio.ensure_future(reads.row(2))
    await asyncio.sleep(0)  # both wait for the departure, planned for the loop's next turn
    leaving.cancel()

    assert await staying == TABLE[2]
    assert rows.queries == [[2]]


def test_max_ids_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SharedReads(Rows(), max_ids=0)


async def test_a_fetch_that_answers_with_a_future_is_awaited_as_it_is() -> None:
    queries: list[list[int]] = []

    def fetch(ids: list[int]) -> asyncio.Future[Sequence[Row]]:
        queries.append(ids)
        answer: asyncio.Future[Sequence[Row]] = asyncio.get_running_loop().create_future()
        answer.set_result([TABLE[id_] for id_ in ids if id_ in TABLE])
        return answer

    reads = SharedReads(fetch)

    assert list(await asyncio.gather(reads.row(2), reads.row(500))) == [TABLE[2], None]
    assert queries == [[2, 500]]


async def test_a_failing_future_fails_every_read_it_carries() -> None:
    def fetch(ids: list[int]) -> asyncio.Future[Sequence[Row]]:
        answer: asyncio.Future[Sequence[Row]] = asyncio.get_running_loop().create_future()
        answer.set_exception(DatabaseUnavailable("gone"))
        return answer

    reads = SharedReads(fetch)
    got = await asyncio.gather(reads.row(1), reads.row(2), return_exceptions=True)

    assert [type(outcome) for outcome in got] == [DatabaseUnavailable, DatabaseUnavailable]
