"""Waiting in tests for work that happens in the background, up to a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

WAIT_SECONDS = 5.0
POLL_SECONDS = 0.01

T = TypeVar("T")


async def eventually(condition: Callable[[], bool], within: float = WAIT_SECONDS) -> None:
    """Return once `condition()` holds; fail the test if it does not within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition still false after {within} s")
        await asyncio.sleep(POLL_SECONDS)


async def polled(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    within: float = WAIT_SECONDS,
) -> T:
    """The first value `read()` gives that is `done`; fail the test if none is within `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not done(value := await read()):
        if loop.time() > deadline:
            raise AssertionError(f"still not done after {within} s: {value!r}")
        await asyncio.sleep(POLL_SECONDS)
    return value
