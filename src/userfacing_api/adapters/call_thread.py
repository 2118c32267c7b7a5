"""A thread of its own that runs the calls given to it, one after the other.

For a connection that must only ever be used from one thread (SQLite's), and whose
calls are short: a one-thread `ThreadPoolExecutor` behind `run_in_executor` does
several times the Python work per call (a `concurrent.futures.Future` with its
lock, chained to an asyncio future, an idle-thread semaphore), and all of it holds
the interpreter lock that the event loop needs. Here a call is a queue entry, and
its result goes straight to its asyncio future through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class CallThread:
    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._closed = False
        # A daemon: a call stuck in the driver must not keep the process from exiting.
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def run(self, function: Callable[..., T], *arguments: Any) -> asyncio.Future[T]:
        """`function(*arguments)`, called in the thread after the calls given before it.

        Cancelling the future does not stop a call that has begun; its result is dropped.
        """
        if self._closed:
            raise RuntimeError("the thread is closed and takes no more calls")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, function, arguments))
        return future

    async def close(self) -> None:
        """Take no more calls, and wait (without blocking the loop) for those given before."""
        if self._closed:
            return
        last = self.run(_nothing)
        self._closed = True
        self._calls.put(None)
        await last

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            loop, future, function, arguments = call
            try:
                outcome: tuple[Any, BaseException | None] = (function(*arguments), None)
            except BaseException as err:  # handed to the caller, whatever it is
                outcome = (None, err)
            # A closed loop has nobody left waiting for the answer.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _nothing() -> None:
    return None
