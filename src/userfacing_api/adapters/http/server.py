"""Serving the application until SIGTERM or SIGINT, then shutting down within a grace period.

On the first signal the service stops listening, closes idle connections,
answers 503 to new requests on connections still open, and lets the requests
in flight finish — an upload keeps receiving its body. When they are done, or
`shutdown_grace` seconds have passed (then the ones left are answered 503),
the application's resources are closed (the delivery outbox records what it
was doing) within what is left of the grace period, and the process ends.
A second signal ends it at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from userfacing_api.adapters.http.app_keys import IN_FLIGHT
from userfacing_api.adapters.http.connections import GuardedServer

logger = logging.getLogger("userfacing_api")

# Keep-alive connections idle for longer are closed.
KEEPALIVE_SECONDS = 75.0
# Time left to close resources after the grace period, and to write the last 503s.
LAST_SECONDS = 1.0
EXIT_AT_ONCE = 1
EXIT_CLEAN = 0


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    shutdown_grace: float
    header_timeout: float
    body_idle_timeout: float


class GuardedAppRunner(web.AppRunner):
    """An `AppRunner` whose connections are `GuardedRequestHandler`s."""

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float,
        body_idle_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._header_timeout = header_timeout
        self._body_idle_timeout = body_idle_timeout

    async def _make_server(self) -> GuardedServer:
        plain = await super()._make_server()
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            header_timeout=self._header_timeout,
            body_idle_timeout=self._body_idle_timeout,
            **plain._kwargs,
        )


async def serve(
    app: web.Application,
    options: ServerOptions,
    access_log_class: type[AbstractAccessLogger],
    listening: socket.socket,
) -> None:
    """Serve `app` on the bound socket `listening` until a signal, then shut down as
    the module's docstring says."""
    runner = GuardedAppRunner(
        app,
        header_timeout=options.header_timeout,
        body_idle_timeout=options.body_idle_timeout,
        access_log_class=access_log_class,
        # A client that goes away cancels its handler, so an event stream ends at once.
        handler_cancellation=True,
        keepalive_timeout=KEEPALIVE_SECONDS,
        shutdown_timeout=LAST_SECONDS,
    )
    await runner.setup()
    try:
        first_signal = _signals()
        site = web.SockSite(runner, listening)
        await site.start()
        # What start-up made (the app, its schemas, the libraries' own objects) lives as
        # long as the process: moved out of the collector's reach, so that its full
        # passes no longer walk all of it and stall every request for tens of ms.
        gc.freeze()
        logger.info("serving on http://%s:%d", options.host, options.port)
        await first_signal.wait()
    except BaseException:
        await runner.cleanup()
        raise
    await _drain(runner, app, options.shutdown_grace)


def _signals() -> asyncio.Event:
    """Set on the first SIGTERM or SIGINT; from then on another one exits at once."""
    loop = asyncio.get_running_loop()
    received = asyncio.Event()

    def on_signal(number: int) -> None:
        if received.is_set():
            exit_now(EXIT_AT_ONCE, f"second {signal.Signals(number).name}: exiting at once")
        logger.info("%s received: shutting down", signal.Signals(number).name)
        received.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)
    return received


async def _drain(runner: web.AppRunner, app: web.Application, grace: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    in_flight = app[IN_FLIGHT]
    in_flight.draining = True
    for site in list(runner.sites):
        await site.stop()
    server = runner.server
    if server is not None:
        for connection in server.connections:
            # No waiting for the rest of a body whose answer has gone out.
            connection._lingering_time = 0.0
            if not connection._request_in_progress and not connection._messages:
                connection.close()
    if not await in_flight.wait_until_idle(max(deadline - loop.time(), 0.0)):
        logger.warning("%d request(s) still running after the grace period", len(in_flight))
        in_flight.cut_short()
        await in_flight.wait_until_idle(LAST_SECONDS)
    cleanup = asyncio.ensure_future(runner.cleanup())
    done, _ = await asyncio.wait({cleanup}, timeout=max(deadline - loop.time(), LAST_SECONDS))
    if not done:
        exit_now(EXIT_AT_ONCE, "resources not closed within the grace period; exiting anyway")
    cleanup.result()


def exit_now(code: int, reason: str | None = None) -> NoReturn:
    """End the process without waiting for anything: tasks, threads, or the interpreter's
    teardown of every loaded library, which alone takes seconds on a busy machine."""
    if reason is not None:
        logger.warning("%s", reason)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
