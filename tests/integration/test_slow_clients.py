"""Clients that stall or send what is not HTTP, on raw connections to the real server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.waiting import polled
from userfacing_api.adapters.http.access_log import RequestIdAccessLogger
from userfacing_api.adapters.http.server import GuardedAppRunner
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import Settings

TIMEOUT = 0.5
TRICKLE_PAUSE = 0.05


@pytest.fixture
async def port(settings: Settings) -> AsyncIterator[int]:
    """The port of the service, served as `serve` does, with short time-outs."""
    runner = GuardedAppRunner(
        create_app(settings),
        header_timeout=TIMEOUT,
        body_idle_timeout=TIMEOUT,
        access_log_class=RequestIdAccessLogger,
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def closed_by_the_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before it closed the connection; fails if it never does."""
    received = bytearray()

    async def read() -> bytes:
        try:
            return await reader.read(65536)
        except ConnectionResetError:
            return b""

    async def more() -> bool:
        chunk = await read()
        received.extend(chunk)
        return chunk == b""

    await polled(more, bool, within=10.0)
    return bytes(received)


async def test_a_client_sending_its_headers_a_byte_at_a_time_is_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 10_000

    async def trickle() -> None:
        for byte in request:
            writer.write(bytes([byte]))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            # The client's own pace: one byte every TRICKLE_PAUSE seconds.
            await asyncio.sleep(TRICKLE_PAUSE)

    sender = asyncio.create_task(trickle())
    try:
        answer = await closed_by_the_server(reader)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        writer.close()

    assert answer == b""


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    answer = await closed_by_the_server(reader)
    writer.close()

    assert answer == b""


async def test_an_upload_whose_body_stops_arriving_is_cut_off_and_leaves_no_file(
    port: int, settings: Settings
) -> None:
    token = await _token(port)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        + b"x" * 1000
    )
    writer.write(
        b"POST /files/data/exp/upload HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b\r\n"
        + b"Content-Length: 100000\r\n\r\n"
        + head
    )
    await writer.drain()

    await closed_by_the_server(reader)
    writer.close()

    root = Path(settings.storage.user_data_root_path)
    await polled(lambda: asyncio.to_thread(_files_below, root), lambda files: files == [])


async def test_a_malformed_request_gets_a_json_400_and_one_warning_line_without_traceback(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header secret-token-123: 1\r\n\r\n")
    await writer.drain()

    answer = await closed_by_the_server(reader)
    writer.close()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split()[1] == b"400"
    assert b"application/json" in head
    assert body.startswith(b'{"detail": "Malformed HTTP request')
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(problems) == 1
    [warning] = problems
    assert warning.levelno == logging.WARNING
    assert warning.exc_info is None
    assert "\n" not in warning.getMessage()
    assert "secret-token-123" not in caplog.text
    assert b"secret-token-123" not in body


async def _token(port: int) -> str:
    form = {"username": "alice@example.org", "password": "Correct-horse-9"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
        assert (await session.post("/user", data=form)).status == 201
        issued = await session.post("/token", data=form)
        token: str = (await issued.json())["id_token"]
    return token


def _files_below(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]
