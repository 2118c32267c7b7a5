"""The requests being served, so that a shutdown can let them finish or answer them.

While the service drains (after SIGTERM), new requests on connections still
open get 503 and every answer closes its connection. When the grace period
runs out, the requests still running are cancelled and answered 503 — unless
their answer has begun, which can only be cut off.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from userfacing_api.adapters.http.errors import error_response

SHUTTING_DOWN = "The service is shutting down; try again in a moment"


class InFlightRequests:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False
        self._grace_over = False

    def __len__(self) -> int:
        return len(self._tasks)

    def refusal(self) -> web.StreamResponse | None:
        """The 503 that closes its connection while the service drains; None otherwise."""
        return _closing(error_response(503, SHUTTING_DOWN)) if self.draining else None

    def enter(self) -> asyncio.Task[object]:
        """Count the request running in the current task until `leave`."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._idle.clear()
        return task

    def leave(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    def cut_short_answer(
        self, request: web.Request, task: asyncio.Task[object]
    ) -> web.StreamResponse | None:
        """The 503 for a request cancelled by `cut_short` whose answer has not begun;
        None for any other cancellation, which must go on."""
        if not (self._grace_over and task.cancelling()) or request.writer.output_size:
            return None
        task.uncancel()
        return _closing(error_response(503, SHUTTING_DOWN))

    def finished(self, response: web.StreamResponse) -> web.StreamResponse:
        """`response`, closing its connection if the service began draining meanwhile."""
        return _closing(response) if self.draining else response

    async def wait_until_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline
        """True once no request is in flight; False when `timeout` seconds pass first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    def cut_short(self) -> None:
        """Cancel every request still running; each is answered 503 if it can be."""
        self._grace_over = True
        for task in self._tasks:
            task.cancel()


def _closing(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        response.force_close()
    return response
