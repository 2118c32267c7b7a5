"""Turns on a database's connections: in arrival order, bounded waits, none lost."""

from __future__ import annotations

import asyncio

import pytest

from tests.waiting import eventually
from userfacing_api.adapters.db.turns import Turns
from userfacing_api.ports.database import DatabaseUnavailable

LONG = 10.0


async def test_a_free_turn_is_taken_at_once_and_the_others_wait_in_arrival_order() -> None:
    turns = Turns(2, LONG)
    await turns.take()
    await turns.take()
    order: list[int] = []

    async def waiter(number: int) -> None:
        await turns.take()
        order.append(number)

    waiting = [asyncio.create_task(waiter(number)) for number in range(4)]
    await asyncio.sleep(0)
    assert order == []
    for _ in range(4):
        turns.give_back()
        await asyncio.sleep(0)
    await asyncio.gather(*waiting)

    assert order == [0, 1, 2, 3]


async def test_a_wait_past_the_timeout_fails_busy_and_later_ones_still_get_their_turn() -> None:
    turns = Turns(1, 0.05)
    await turns.take()
    first = asyncio.create_task(turns.take())

    with pytest.raises(DatabaseUnavailable, match="busy"):
        await first
    second = asyncio.create_task(turns.take())
    turns.give_back()
    await asyncio.wait_for(second, LONG)


async def test_deadlines_follow_the_waiters_after_the_first_one_is_served() -> None:
    turns = Turns(1, 0.2)
    await turns.take()
    first = asyncio.create_task(turns.take())
    await asyncio.sleep(0.1)
    second = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    turns.give_back()
    await first

    with pytest.raises(DatabaseUnavailable):
        await asyncio.wait_for(second, LONG)


@pytest.mark.parametrize("handed_over_first", [False, True])
async def test_a_caller_that_gives_up_waiting_loses_no_turn(handed_over_first: bool) -> None:
    """Also when the turn was handed to it just as it gave up: it is passed on."""
    turns = Turns(1, LONG)
    await turns.take()
    gone = asyncio.create_task(turns.take())
    after = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    if handed_over_first:
        turns.give_back()
        gone.cancel()
    else:
        gone.cancel()
        turns.give_back()

    await asyncio.wait_for(after, LONG)
    await eventually(gone.done)
    assert gone.cancelled()


def test_a_turn_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Turns(0, LONG)
