"""Connections from clients that stall or send what is not HTTP.

aiohttp holds a connection as long as its client keeps it open, however slowly
the request arrives, and logs every unparsable request with a traceback at
ERROR. `GuardedRequestHandler` closes a connection whose request headers are
not complete within `header_timeout` seconds of its first byte, or whose body
stops arriving for `body_idle_timeout` seconds (while the service is reading
it: a body the service is not ready for yet does not count), and answers a
malformed request with a JSON 400 and one WARNING line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

logger = logging.getLogger("userfacing_api.http")

_MALFORMED_STATUSES = range(400, 500)


class GuardedRequestHandler(RequestHandler):
    """One client connection, closed when it stalls (see the module's docstring)."""

    def __init__(
        self, manager: Server, *, header_timeout: float, body_idle_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._body_idle_timeout = body_idle_timeout
        self._headers_since: float | None = None
        self._last_data = 0.0
        self._body: Any = None
        self._watch: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        now = self._loop.time()
        self._headers_since = now
        self._last_data = now
        self._schedule_watch()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        requests_before = self._request_count
        super().data_received(data)
        now = self._loop.time()
        self._last_data = now
        if self._request_count != requests_before:
            # Headers are complete; what follows belongs to the body of the last one.
            self._headers_since = None
            self._body = self._messages[-1][1] if self._messages else None
        elif self._headers_since is None and not self._reading_body():
            self._headers_since = now

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A JSON answer to a request that is not valid HTTP, logged once on one line."""
        if status not in _MALFORMED_STATUSES:
            return super().handle_error(request, status, exc, message)
        reason = _kind_of(message or (str(exc) if exc is not None else "") or "malformed request")
        logger.warning("malformed request from %s: %s", request.remote, reason)
        response = web.json_response({"detail": f"Malformed HTTP request: {reason}"}, status=status)
        response.force_close()
        return response

    def _reading_body(self) -> bool:
        return self._body is not None and not self._body.is_eof()

    def _schedule_watch(self) -> None:
        interval = min(self._header_timeout, self._body_idle_timeout) / 4
        self._watch = self._loop.call_later(interval, self._check)

    def _check(self) -> None:
        self._watch = None
        if self.transport is None:
            return
        now = self._loop.time()
        if self._headers_since is not None and not self._request_in_progress:
            if now - self._headers_since > self._header_timeout:
                self._drop("request headers not complete in time")
                return
        elif self._reading_body() and not self._reading_paused:
            if now - self._last_data > self._body_idle_timeout:
                self._drop("request body stalled")
                return
        else:
            self._last_data = now
        self._schedule_watch()

    def _drop(self, reason: str) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        logger.warning("closing the connection of %s: %s", peer, reason)
        self.force_close()


class GuardedServer(Server):
    """aiohttp's low-level server, making `GuardedRequestHandler` connections."""

    def __init__(
        self, *args: Any, header_timeout: float, body_idle_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._body_idle_timeout = body_idle_timeout

    def __call__(self) -> RequestHandler:
        return GuardedRequestHandler(
            self,
            header_timeout=self._header_timeout,
            body_idle_timeout=self._body_idle_timeout,
            loop=self._loop,
            **self._kwargs,
        )


def _kind_of(problem: str) -> str:
    """What the parser found wrong, without the bytes it quotes after a colon: they
    are the client's (an `Authorization` header, say) and belong in no log."""
    return " ".join(problem.partition(":")[0].split())
