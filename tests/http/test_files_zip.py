"""Folders downloaded as zip archives, and the archive stream itself."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client, uploaded
from userfacing_api.adapters.http import zip_stream as zip_stream_module
from userfacing_api.adapters.http.zip_stream import (
    ZipMember,
    archive_length,
    compression_level,
    zip_stream,
)


def archive_of(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


async def test_a_folder_downloads_as_a_zip_of_the_files_below_it(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp1", "a.txt", b"first")
    await uploaded(client, headers, "data/exp1/sub/deeper", "b.bin", bytes(range(256)) * 100)
    await uploaded(client, headers, "data/exp1/sub", "c.txt", b"third")
    await uploaded(client, headers, "data/exp2", "elsewhere.txt", b"not in the archive")

    response = await client.get("/files/data/exp1/download", headers=headers)

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == "attachment; filename=exp1.zip"
    assert "Content-Length" not in response.headers
    assert archive_of(await response.read()) == {
        "a.txt": b"first",
        "sub/c.txt": b"third",
        "sub/deeper/b.bin": bytes(range(256)) * 100,
    }


async def test_the_whole_tree_downloads_as_files_zip(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "config/", "c.yaml", b"c: 1")
    await uploaded(client, headers, "data/x", "d.txt", b"d")

    response = await client.get("/files//download", headers=headers)

    assert response.headers["Content-Disposition"] == "attachment; filename=files.zip"
    assert archive_of(await response.read()) == {"config/c.yaml": b"c: 1", "data/x/d.txt": b"d"}


async def test_a_folder_of_stored_members_announces_its_exact_length(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    frames = os.urandom(300_000)
    await uploaded(client, headers, "data/exp1", "frames.tif", frames)
    await uploaded(client, headers, "data/exp1/sub", "calib.mat", b"calibration")
    await uploaded(client, headers, "data/exp1/sub", "empty.h5", b"")

    response = await client.get("/files/data/exp1/download", headers=headers)
    content = await response.read()

    assert response.status == 200
    assert int(response.headers["Content-Length"]) == len(content)
    assert archive_of(content) == {
        "frames.tif": frames,
        "sub/calib.mat": b"calibration",
        "sub/empty.h5": b"",
    }
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


@pytest.mark.parametrize("zip64", [False, True], ids=["zip32", "zip64"])
@pytest.mark.parametrize("count", [0, 1, 3])
async def test_the_announced_length_is_exact_for_stored_members(
    count: int, zip64: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if zip64:  # as if the members added up to more than 4 GiB
        monkeypatch.setattr(zip_stream_module, "ZIP32_LIMIT", 0)
    contents = {f"dir/m{index}.bin": os.urandom(1000 * index) for index in range(count)}
    members = [member(name, content) for name, content in contents.items()]

    length = await archive_length(members)
    content = await collect(zip_stream(members))

    assert length == len(content)
    assert archive_of(content) == contents
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        versions = {info.extract_version >= zipfile.ZIP64_VERSION for info in archive.infolist()}
        assert versions <= {zip64}


async def test_no_length_is_announced_when_a_member_is_deflated() -> None:
    members = [member("frames.tif", b"frames"), member("notes.txt", b"text")]

    assert await archive_length(members) is None


async def test_an_empty_folder_downloads_as_an_empty_archive(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.get("/files/log/download", headers=headers)

    assert response.status == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=log.zip"
    assert archive_of(await response.read()) == {}


async def test_a_folder_with_a_special_name_gets_an_encoded_archive_name(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/my run", "a.txt", b"a")

    response = await client.get("/files/data/my run/download", headers=headers)

    assert archive_of(await response.read()) == {"a.txt": b"a"}
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"my run.zip\"; filename*=UTF-8''my%20run.zip"
    )


async def source(*chunks: bytes, before: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    if before is not None:
        await before.wait()
    for chunk in chunks:
        yield chunk


def member(name: str, *chunks: bytes, before: asyncio.Event | None = None) -> ZipMember:
    return ZipMember(
        name=name,
        size=sum(len(chunk) for chunk in chunks),
        modified=datetime(2024, 5, 1, tzinfo=UTC),
        chunks=lambda: source(*chunks, before=before),
    )


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_the_archive_starts_before_later_files_are_read() -> None:
    later_file_may_be_read = asyncio.Event()
    incompressible = os.urandom(300_000)
    chunks = zip_stream(
        [
            member("first.bin", incompressible),
            member("second.txt", b"second", before=later_file_may_be_read),
        ]
    )

    sent = b""
    while len(sent) <= len(incompressible):
        sent += await asyncio.wait_for(anext(chunks), timeout=10)
    later_file_may_be_read.set()
    sent += await asyncio.wait_for(collect(chunks), timeout=10)

    assert archive_of(sent) == {"first.bin": incompressible, "second.txt": b"second"}


async def test_concurrent_archives_finish_when_the_default_executor_has_one_thread() -> None:
    """Reads that need the default executor must not wait behind the compression."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=1))

    async def read_in_default_executor(content: bytes) -> AsyncIterator[bytes]:
        stream = io.BytesIO(content)
        while chunk := await loop.run_in_executor(None, stream.read, 1000):
            yield chunk

    def archive(index: int) -> AsyncIterator[bytes]:
        content = f"file {index} ".encode() * 1000
        reader = ZipMember(
            f"{index}.txt", len(content), None, lambda: read_in_default_executor(content)
        )
        return zip_stream([reader])

    results = await asyncio.wait_for(
        asyncio.gather(*(collect(archive(index)) for index in range(4))), timeout=20
    )

    for index, result in enumerate(results):
        assert archive_of(result) == {f"{index}.txt": f"file {index} ".encode() * 1000}


async def test_the_archive_is_built_off_the_event_loop_thread() -> None:
    building_threads: set[int] = set()

    class RecordingTime(datetime):
        """A modification time that notes which thread the archive builder reads it in."""

        def timestamp(self) -> float:
            building_threads.add(threading.get_ident())
            return super().timestamp()

    modified = RecordingTime(2024, 5, 1, tzinfo=UTC)
    chunks = zip_stream([ZipMember("r.txt", 4, modified, lambda: source(b"data"))])

    content = await collect(chunks)

    assert archive_of(content) == {"r.txt": b"data"}
    assert building_threads
    assert threading.get_ident() not in building_threads


async def test_an_abandoned_archive_closes_the_file_it_was_reading() -> None:
    started, closed = asyncio.Event(), asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        started.set()
        try:
            while True:
                yield os.urandom(100_000)
        finally:
            closed.set()

    chunks = zip_stream([ZipMember("endless.log", 10**9, None, endless)])
    for _ in range(3):  # the first chunk is the header alone
        await anext(chunks)
    await chunks.aclose()

    assert started.is_set()
    assert closed.is_set()


async def test_an_archive_abandoned_while_checksumming_stops_reading() -> None:
    started, closed = asyncio.Event(), asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        started.set()
        try:
            while True:
                yield b"x" * 100_000
                await asyncio.sleep(0)
        finally:
            closed.set()

    chunks = zip_stream([ZipMember("endless.bin", 10**12, None, endless)])
    first = asyncio.create_task(anext(chunks))
    await asyncio.wait_for(started.wait(), timeout=10)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(chunks.aclose(), timeout=10)

    assert closed.is_set()


async def test_a_file_over_4_gib_gets_zip64_records() -> None:
    chunks = zip_stream([ZipMember("huge.txt", 5 * 2**30, None, lambda: source(b"tiny"))])

    content = await collect(chunks)

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.getinfo("huge.txt").extract_version >= zipfile.ZIP64_VERSION
        assert archive.read("huge.txt") == b"tiny"


def test_text_members_are_deflated_and_binary_members_stored() -> None:
    assert compression_level("exp1/localisations.CSV") == 1
    assert compression_level("log/run.log") == 1
    assert compression_level("data/exp1/frames.tif") == 0
    assert compression_level("artifact/model/weights.pt") == 0
    assert compression_level("README") == 0
