"""Local stand-ins for the HTTP services this one calls: the worker-facing API and Mailjet.

Each is a real aiohttp server on 127.0.0.1 that records what it receives and can
be told, while a test runs, how to answer — or to stop answering at all.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

DEFAULT_WAIT_SECONDS = 5.0
MAILJET_TEST_KEY = "mailjet-test-key"
MAILJET_TEST_SECRET = "mailjet-test-secret"


@dataclass
class ReceivedRequest:
    headers: CIMultiDict[str]
    body: Any
    """The JSON body, or None when it was not JSON."""
    at: float
    """Event-loop time of arrival."""
    status: int | None = None
    """What the stand-in answered; None while it has not answered."""


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any


class StandInServer:
    """A server that can be taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._shutdown = asyncio.Event()
        self._arrivals = asyncio.Condition()

    @property
    def url(self) -> str:
        assert self._port, "the stand-in has never been started"
        return f"http://127.0.0.1:{self._port}"

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        await site.start()
        self._port = runner.addresses[0][1]
        self._runner = runner
        self._shutdown = asyncio.Event()

    async def stop(self) -> None:
        """Stop serving; requests left waiting (see `FakeWorkerApi.hang`) are released."""
        if self._runner is None:
            return
        self._shutdown.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def go_down(self) -> None:
        """Refuse connections until `come_back`, which listens on the same port again."""
        await self.stop()

    async def come_back(self) -> None:
        await self.start()

    async def record(self, request: web.Request) -> ReceivedRequest:
        try:
            body = await request.json()
        except ValueError:
            body = None
        received = ReceivedRequest(
            headers=request.headers.copy(), body=body, at=asyncio.get_running_loop().time()
        )
        async with self._arrivals:
            self.received.append(received)
            self._arrivals.notify_all()
        return received

    async def wait_for_requests(
        self,
        count: int,
        timeout: float = DEFAULT_WAIT_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> list[ReceivedRequest]:
        """Every request received once there are at least `count`; fail after `timeout`."""
        try:
            async with asyncio.timeout(timeout), self._arrivals:
                await self._arrivals.wait_for(lambda: len(self.received) >= count)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} requests within {timeout} s, got {len(self.received)}"
            ) from None
        return list(self.received)

    async def wait_until_shut_down(self) -> None:
        await self._shutdown.wait()

    @staticmethod
    def answer(received: ReceivedRequest, answer: _Answer) -> web.Response:
        received.status = answer.status
        return web.json_response(answer.body, status=answer.status)


class FakeWorkerApi(StandInServer):
    """`POST /_jobs` of the worker-facing API, guarded by its `x-api-key`."""

    def __init__(self, api_key: str = "worker-api-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._answer: _Answer | None = None
        self._delay = 0.0
        self._delayed_left: int | None = None
        self.accept()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/_jobs", self._post_job)]

    def accept(self) -> None:
        self._answer = _Answer(201, None)

    def reject(self, status: int = 422, detail: Any = "job rejected by the stand-in") -> None:
        self._answer = _Answer(status, {"detail": detail})

    def fail(self, status: int = 503) -> None:
        self._answer = _Answer(status, {"detail": "the stand-in is failing on purpose"})

    def slow(self, seconds: float, times: int | None = None) -> None:
        """Answer only after `seconds` (the next `times` requests, or all), as a busy API does."""
        self._delay = seconds
        self._delayed_left = times

    def hang(self) -> None:
        """Hold every request unanswered until the server stops."""
        self._answer = None

    async def wait_for_jobs(
        self,
        count: int,
        timeout: float = DEFAULT_WAIT_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> list[ReceivedRequest]:
        return await self.wait_for_requests(count, timeout)

    async def _post_job(self, request: web.Request) -> web.Response:
        received = await self.record(request)
        if request.headers.get("x-api-key") != self.api_key:
            return self.answer(received, _Answer(401, {"detail": "wrong or missing x-api-key"}))
        if received.body is None:
            return self.answer(received, _Answer(400, {"detail": "the body is not JSON"}))
        await self._dawdle()
        answer = self._answer
        if answer is None:
            await self.wait_until_shut_down()
            return self.answer(received, _Answer(503, {"detail": "shutting down"}))
        if answer.status == 201:
            return self.answer(received, _Answer(201, received.body))
        return self.answer(received, answer)

    async def _dawdle(self) -> None:
        if self._delayed_left == 0 or not self._delay:
            return
        if self._delayed_left is not None:
            self._delayed_left -= 1
        # The stand-in's own slowness, not a test waiting: it ends early on shutdown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_until_shut_down(), self._delay)


class FakeMailjet(StandInServer):
    """`POST /v3.1/send` of the Mailjet Send API, guarded by HTTP basic auth."""

    def __init__(
        self, api_key: str = MAILJET_TEST_KEY, secret_key: str = MAILJET_TEST_SECRET
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.secret_key = secret_key
        self._throttled_left = 0
        self._retry_after: int | None = None
        self._failure: int | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v3.1/send", self._send)]

    def throttle(self, times: int, retry_after: int | None = None) -> None:
        """Answer 429 (with `Retry-After` if given) to the next `times` requests, then 200."""
        self._throttled_left = times
        self._retry_after = retry_after

    def fail(self, status: int = 500) -> None:
        """Answer `status` to every request from now on."""
        self._failure = status

    async def _send(self, request: web.Request) -> web.Response:
        received = await self.record(request)
        if not self._authorised(request.headers.get("Authorization", "")):
            return self.answer(received, _Answer(401, {"ErrorMessage": "wrong API credentials"}))
        if self._throttled_left > 0:
            self._throttled_left -= 1
            response = self.answer(received, _Answer(429, {"ErrorMessage": "too many requests"}))
            if self._retry_after is not None:
                response.headers["Retry-After"] = str(self._retry_after)
            return response
        if self._failure is not None:
            return self.answer(received, _Answer(self._failure, {"ErrorMessage": "failing"}))
        messages = received.body.get("Messages", []) if isinstance(received.body, dict) else []
        return self.answer(
            received, _Answer(200, {"Messages": [{"Status": "success"} for _ in messages]})
        )

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        return credentials == f"{self.api_key}:{self.secret_key}"


@pytest.fixture
async def fake_worker_api() -> AsyncIterator[FakeWorkerApi]:
    server = FakeWorkerApi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def fake_mailjet() -> AsyncIterator[FakeMailjet]:
    server = FakeMailjet()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
