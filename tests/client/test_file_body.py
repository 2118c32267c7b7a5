"""A file range as a request body: handed to the kernel's sendfile on plain connections,
read in chunks where it cannot be (TLS), and in both cases sent whole, with its progress
counted once."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from decode_cloud import file_body
from decode_cloud.file_body import SENDFILE_SLICE, FileRange
from decode_cloud.local_io import read_chunks
from decode_cloud.progress import Transfer

OFFSET = 12345
LENGTH = 2 * SENDFILE_SLICE + 678
"""Several slices of sendfile and a short last one, from inside the file."""
ServerFactory = Callable[..., Awaitable[TestServer]]


class CountedTransfer(Transfer):
    def __init__(self) -> None:
        self.total = 0

    def advance(self, size: int) -> None:
        self.total += size


@pytest.fixture
def content(tmp_path: Path) -> bytes:
    data = os.urandom(OFFSET + LENGTH + 999)
    (tmp_path / "movie.tif").write_bytes(data)
    return data[OFFSET : OFFSET + LENGTH]


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes each `loop.sendfile` call sent."""
    calls: list[int] = []
    original = asyncio.BaseEventLoop.sendfile

    async def counted(self: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> int:
        sent = await original(self, *args, **kwargs)
        calls.append(sent)
        return sent

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", counted)
    return calls


async def stand_in(aiohttp_server: ServerFactory, **options: Any) -> tuple[str, list[bytes]]:
    """A server keeping every body it receives: PUT /part, a multipart POST /form, and
    PUT /moved, which reads the body and sends the client to /part."""
    received: list[bytes] = []

    async def part(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response()

    async def form(request: web.Request) -> web.Response:
        field = await (await request.multipart()).next()
        assert isinstance(field, aiohttp.BodyPartReader)
        received.append(await field.read())
        return web.Response()

    async def moved(request: web.Request) -> web.Response:
        received.append(await request.read())
        raise web.HTTPTemporaryRedirect("/part")

    app = web.Application(client_max_size=2 * LENGTH)
    app.router.add_put("/part", part)
    app.router.add_post("/form", form)
    app.router.add_put("/moved", moved)
    server = await aiohttp_server(app, **options)
    return str(server.make_url("")).rstrip("/"), received


async def send(url: str, path: Path, transfer: Transfer, multipart: bool = False) -> None:
    body = FileRange(path, transfer, OFFSET, LENGTH)
    async with aiohttp.ClientSession() as session:
        if multipart:
            with aiohttp.MultipartWriter("form-data") as form:
                form.append_payload(body).set_content_disposition(
                    "form-data", name="file", filename="movie.tif"
                )
            answer = await session.post(url, data=form)
        else:
            answer = await session.put(url, data=body, ssl=False)
        answer.raise_for_status()


def self_signed(folder: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.mark.parametrize("multipart", [False, True], ids=["put", "multipart"])
async def test_a_range_goes_out_through_sendfile_whole_and_counted(
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    content: bytes,
    sendfile_calls: list[int],
    multipart: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = await stand_in(aiohttp_server)
    transfer = CountedTransfer()
    chunked_reads: list[int] = []

    def recorded(path: Path, offset: int, length: int, **kwargs: Any) -> AsyncIterator[bytes]:
        chunked_reads.append(length)
        return read_chunks(path, offset, length, **kwargs)

    monkeypatch.setattr(file_body, "read_chunks", recorded)

    await send(
        f"{url}/form" if multipart else f"{url}/part", tmp_path / "movie.tif", transfer, multipart
    )

    assert received == [content]
    assert transfer.total == LENGTH
    assert sendfile_calls == [SENDFILE_SLICE, SENDFILE_SLICE, LENGTH - 2 * SENDFILE_SLICE]
    # Nothing left for the chunked path, which would open the file once more for nothing.
    assert chunked_reads == []


async def test_an_empty_range_is_read_without_opening_the_file(tmp_path: Path) -> None:
    assert [chunk async for chunk in read_chunks(tmp_path / "not-there.tif", 10, 0)] == []


async def test_over_tls_the_range_is_read_in_chunks_instead(
    aiohttp_server: ServerFactory, tmp_path: Path, content: bytes, sendfile_calls: list[int]
) -> None:
    url, received = await stand_in(aiohttp_server, ssl=self_signed(tmp_path))
    transfer = CountedTransfer()

    await send(f"{url}/part", tmp_path / "movie.tif", transfer)

    assert url.startswith("https://")
    assert received == [content]
    assert transfer.total == LENGTH
    assert sendfile_calls == []


async def test_chunks_take_over_where_sendfile_stops(
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    content: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = asyncio.BaseEventLoop.sendfile
    calls: list[int] = []

    async def once(self: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> int:
        if calls:
            raise asyncio.SendfileNotAvailableError("no more sendfile")
        calls.append(await original(self, *args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", once)
    url, received = await stand_in(aiohttp_server)
    transfer = CountedTransfer()

    await send(f"{url}/part", tmp_path / "movie.tif", transfer)

    assert calls == [SENDFILE_SLICE]
    assert received == [content]
    assert transfer.total == LENGTH


async def test_a_redirected_request_sends_the_range_again_counted_once(
    aiohttp_server: ServerFactory, tmp_path: Path, content: bytes, sendfile_calls: list[int]
) -> None:
    url, received = await stand_in(aiohttp_server)
    transfer = CountedTransfer()

    await send(f"{url}/moved", tmp_path / "movie.tif", transfer)

    assert received == [content, content]
    assert transfer.total == LENGTH
    assert sum(sendfile_calls) == 2 * LENGTH
