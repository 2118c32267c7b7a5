"""A folder as a zip archive, built piece by piece while it is being sent.

`stream_zip` builds the archive from plain iterators, compressing as it goes,
in constant memory. Its own async wrapper runs every step in the event loop's
default executor, where a step then waits for file chunks read on the event
loop; storage adapters read files through that same executor, so as many
concurrent downloads as it has threads would wait for each other forever.
Here the steps (and so the compression) run in a pool of their own, whose
threads only ever wait for work that does not need that pool.
"""

from __future__ import annotations

import asyncio
import stat
import threading
import zlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterator,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, TypeVar, cast

from stream_zip import NO_COMPRESSION_32, NO_COMPRESSION_64, ZIP_AUTO, MemberFile, stream_zip

# Microscopy data (TIFF stacks, HDF5, models) barely deflates, and deflating it
# runs at ~40 MB/s a core: such members are stored (deflate level 0, ~4 GB/s).
# Text (configurations, logs, localisation tables) shrinks to a third at level 1.
TEXT_SUFFIXES = frozenset(
    {".yaml", ".yml", ".json", ".csv", ".tsv", ".txt", ".log", ".xml", ".md", ".ini", ".cfg"}
)
TEXT_LEVEL = 1
STORED_LEVEL = 0
OUTPUT_CHUNK_SIZE = 1024 * 1024
FILE_MODE = stat.S_IFREG | 0o644
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)
ZIP32_LIMIT = 0xFFFFFFFF
ZIP32_MAX_ENTRIES = 0xFFFF
ZIP32_RECORDS_PER_MEMBER = 200
"""More than a member's local header and central directory entry take, besides its name."""

_compression_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="zip-stream")

T = TypeVar("T")
ChunkSource = Callable[[], AsyncIterator[bytes]]
StoredMethod = Callable[[int, int], Any]
"""stream-zip's NO_COMPRESSION_32 or _64: (size, CRC-32) → the member's method."""


@dataclass(frozen=True)
class ZipMember:
    """One file of the archive; `chunks` opens its content when the archive reaches it."""

    name: str
    size: int
    modified: datetime | None
    chunks: ChunkSource


async def archive_length(members: Sequence[ZipMember]) -> int | None:
    """The exact length of the archive `zip_stream` makes of `members`, when it is known.

    It is when every member is stored: the archive is then the members' bytes
    plus records whose lengths depend only on names and sizes, measured here by
    building the archive of the same members emptied. A deflated member's
    length is known only once it is compressed.
    """
    method = _stored_method(members)
    if method is None:
        return None

    def measure(stored: StoredMethod) -> int:
        emptied = (
            (member.name, member.modified or ZIP_EPOCH, FILE_MODE, stored(0, 0), iter(()))
            for member in members
        )
        return sum(len(chunk) for chunk in stream_zip(emptied))

    loop = asyncio.get_running_loop()
    records = await loop.run_in_executor(_compression_pool, measure, method)
    return records + sum(member.size for member in members)


async def zip_stream(members: Sequence[ZipMember]) -> AsyncGenerator[bytes, None]:
    """The archive of `members`, in chunks of at most `OUTPUT_CHUNK_SIZE` bytes.

    Files larger than 4 GiB, or archives that grow beyond it, get Zip64 records.
    When every member is stored, each is read twice: first for the CRC-32 that
    precedes its bytes, which is what makes the length known in advance.
    """
    loop = asyncio.get_running_loop()
    sources = _Sources(loop)
    archive = iter(stream_zip(_member_files(members, sources), chunk_size=OUTPUT_CHUNK_SIZE))
    step: asyncio.Future[bytes | None] | None = None
    try:
        while True:
            step = loop.run_in_executor(_compression_pool, next, archive, None)
            # Shielded: a cancelled download must still wait for the running step
            # before the archive and its sources can be closed.
            chunk = await asyncio.shield(step)
            if chunk is None:
                return
            yield chunk
    finally:
        sources.abandoned.set()
        if step is not None and not step.done():
            with suppress(Exception):
                await step
        _close_generator(archive)
        await sources.close()


def _member_files(members: Sequence[ZipMember], sources: _Sources) -> Iterator[MemberFile]:
    stored = _stored_method(members)
    for member in members:
        if stored is None:
            method = ZIP_AUTO(member.size, level=compression_level(member.name))
        else:
            checksum = 0
            for chunk in sources.pull(member.chunks):
                checksum = zlib.crc32(chunk, checksum)
            method = stored(member.size, checksum)
        yield (
            member.name,
            member.modified or ZIP_EPOCH,
            FILE_MODE,
            method,
            sources.pull(member.chunks),
        )


def _stored_method(members: Sequence[ZipMember]) -> StoredMethod | None:
    """How to store every member uncompressed, or None when some member is deflated.

    Plain zip records while the whole archive stays clear of their 4 GiB and
    65,535-entry limits (with room for the records themselves), Zip64 otherwise.
    """
    if any(compression_level(member.name) != STORED_LEVEL for member in members):
        return None
    records = sum(ZIP32_RECORDS_PER_MEMBER + 2 * len(member.name) for member in members)
    if len(members) < ZIP32_MAX_ENTRIES and records + sum(m.size for m in members) < ZIP32_LIMIT:
        return cast(StoredMethod, NO_COMPRESSION_32)
    return cast(StoredMethod, NO_COMPRESSION_64)


def compression_level(name: str) -> int:
    """Deflate text, store everything else (see `TEXT_SUFFIXES`)."""
    suffix = PurePosixPath(name).suffix.lower()
    return TEXT_LEVEL if suffix in TEXT_SUFFIXES else STORED_LEVEL


class _Abandoned(Exception):
    """The archive is no longer wanted; the step reading a member stops early."""


class _Sources:
    """The members' chunk sources opened for one archive, read from a compression thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.abandoned = threading.Event()
        self._loop = loop
        self._opened: list[AsyncIterator[bytes]] = []

    def pull(self, source: ChunkSource) -> Iterator[bytes]:
        """The chunks of one file, fetched on the event loop; stops once abandoned."""

        async def open_source() -> AsyncIterator[bytes]:
            chunks = source()
            self._opened.append(chunks)
            return chunks

        async def next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
            return await anext(chunks, None)

        chunks = _on_loop(self._loop, open_source())
        while True:
            if self.abandoned.is_set():
                raise _Abandoned
            chunk = _on_loop(self._loop, next_chunk(chunks))
            if chunk is None:
                return
            yield chunk

    async def close(self) -> None:
        for chunks in self._opened:
            await _close(chunks)


def _on_loop(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(work, loop).result()


def _close_generator(archive: Iterator[bytes]) -> None:
    close = getattr(archive, "close", None)
    if close is not None:
        close()


async def _close(chunks: AsyncIterator[bytes]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()
