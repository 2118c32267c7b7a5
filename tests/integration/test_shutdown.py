"""SIGTERM to a real `serve` process while an upload is on its way.

The upload is written by hand on a raw connection, so the test decides when each
part of the body leaves; it waits for the upload's part file to appear on disk,
which shows the service is receiving the body, before the signal is sent.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.free_port import free_port
from tests.integration.test_cli import (
    COMMAND_SECONDS,
    serving,
    wait_until_healthy,
)
from tests.integration.test_cli import service_environ as service_environ
from tests.integration.test_cli import workdir as workdir
from tests.waiting import eventually, polled

BOUNDARY = "shutdown-test-boundary"
HEAD = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="movie.bin"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
).encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
FIRST_HALF = b"a" * 256 * 1024
SECOND_HALF = b"b" * 256 * 1024
PASSWORD = "Correct-horse-9"


@dataclass(frozen=True)
class Service:
    process: asyncio.subprocess.Process
    port: int
    token: str
    user_data: Path

    def part_files(self) -> list[Path]:
        return list(self.user_data.rglob(".upload-*.part"))

    def stored(self) -> list[Path]:
        return list(self.user_data.rglob("movie.bin"))


@asynccontextmanager
async def running_service(
    workdir: Path, service_environ: dict[str, str], grace: float
) -> AsyncIterator[Service]:
    port = free_port()
    environ = {
        **service_environ,
        "AUTH": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SHUTDOWN_GRACE": str(grace),
    }
    base = f"http://127.0.0.1:{port}"
    async with serving(environ, workdir) as process, aiohttp.ClientSession() as session:
        await wait_until_healthy(session, f"{base}/health", process)
        form = {"username": "alice@example.org", "password": PASSWORD}
        assert (await session.post(f"{base}/user", data=form)).status == 201
        issued = await session.post(f"{base}/token", data=form)
        token = (await issued.json())["id_token"]
        yield Service(process, port, token, Path(service_environ["USER_DATA_ROOT_PATH"]))


async def start_upload(service: Service) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send the request head and the first half of the file; return once it is being stored."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    length = len(HEAD) + len(FIRST_HALF) + len(SECOND_HALF) + len(TAIL)
    writer.write(
        (
            "POST /files/data/exp1/upload HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{service.port}\r\n"
            f"Authorization: Bearer {service.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()
        + HEAD
        + FIRST_HALF
    )
    await writer.drain()
    await eventually(lambda: bool(service.part_files()), within=10.0)
    return reader, writer


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, object]]:
    """The status and JSON body of the answer; fails on a connection closed in silence."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), COMMAND_SECONDS)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    lengths = [value for name, value in headers.items() if name.lower() == "content-length"]
    body = await reader.readexactly(int(lengths[0]))
    return status, json.loads(body)


async def exit_code(service: Service) -> tuple[int, str]:
    _, stderr = await asyncio.wait_for(service.process.communicate(), COMMAND_SECONDS)
    assert service.process.returncode is not None
    return service.process.returncode, stderr.decode()


async def test_an_upload_in_flight_at_sigterm_completes_and_the_process_exits(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    async with running_service(workdir, service_environ, grace=25.0) as service:
        reader, writer = await start_upload(service)

        service.process.send_signal(signal.SIGTERM)
        writer.write(SECOND_HALF + TAIL)
        await writer.drain()
        status, body = await read_answer(reader)
        code, stderr = await exit_code(service)
        writer.close()

    assert status == 201, body
    assert body["path"] == "data/exp1/movie.bin"
    [stored] = service.stored()
    assert stored.read_bytes() == FIRST_HALF + SECOND_HALF
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr


async def test_an_upload_that_cannot_finish_within_the_grace_period_gets_503(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    async with running_service(workdir, service_environ, grace=1.0) as service:
        reader, writer = await start_upload(service)

        service.process.send_signal(signal.SIGTERM)
        status, body = await read_answer(reader)
        code, stderr = await exit_code(service)
        writer.close()

    assert status == 503
    assert "shutting down" in str(body["detail"])
    assert service.part_files() == []
    assert service.stored() == []
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr


async def test_after_sigterm_no_connection_is_accepted_and_a_second_sigterm_exits_at_once(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    async with running_service(workdir, service_environ, grace=600.0) as service:
        _, writer = await start_upload(service)

        service.process.send_signal(signal.SIGTERM)
        await _until_refused(service.port)
        service.process.send_signal(signal.SIGTERM)
        code, stderr = await exit_code(service)
        writer.close()

    assert code == 1
    assert "exiting at once" in stderr


async def _until_refused(port: int) -> None:
    async def refused() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            return True
        writer.close()
        return False

    await polled(refused, bool, within=10.0)
