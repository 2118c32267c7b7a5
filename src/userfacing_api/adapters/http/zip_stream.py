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
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, TypeVar

from stream_zip import ZIP_AUTO, MemberFile, stream_zip

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

_compression_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="zip-stream")

T = TypeVar("T")
ChunkSource = Callable[[], AsyncIterator[bytes]]


@dataclass(frozen=True)
class ZipMember:
    """One file of the archive; `chunks` opens its content when the archive reaches it."""

    name: str
    size: int
    modified: datetime | None
    chunks: ChunkSource


async def zip_stream(members: Iterable[ZipMember]) -> AsyncGenerator[bytes, None]:
    """The archive of `members`, in chunks of at most `OUTPUT_CHUNK_SIZE` bytes.

    Files larger than 4 GiB, or archives that grow beyond it, get Zip64 records.
    """
    loop = asyncio.get_running_loop()
    opened: list[AsyncIterator[bytes]] = []
    archive = iter(stream_zip(_member_files(members, loop, opened), chunk_size=OUTPUT_CHUNK_SIZE))
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
        if step is not None and not step.done():
            with suppress(Exception):
                await step
        _close_generator(archive)
        for chunks in opened:
            await _close(chunks)


def _member_files(
    members: Iterable[ZipMember],
    loop: asyncio.AbstractEventLoop,
    opened: list[AsyncIterator[bytes]],
) -> Iterator[MemberFile]:
    for member in members:
        yield (
            member.name,
            member.modified or ZIP_EPOCH,
            FILE_MODE,
            ZIP_AUTO(member.size, level=compression_level(member.name)),
            _pull(member.chunks, loop, opened),
        )


def compression_level(name: str) -> int:
    """Deflate text, store everything else (see `TEXT_SUFFIXES`)."""
    suffix = PurePosixPath(name).suffix.lower()
    return TEXT_LEVEL if suffix in TEXT_SUFFIXES else STORED_LEVEL


def _pull(
    source: ChunkSource, loop: asyncio.AbstractEventLoop, opened: list[AsyncIterator[bytes]]
) -> Iterator[bytes]:
    """The chunks of one file, fetched on the event loop from a compression thread."""

    async def open_source() -> AsyncIterator[bytes]:
        chunks = source()
        opened.append(chunks)
        return chunks

    async def next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
        return await anext(chunks, None)

    chunks = _on_loop(loop, open_source())
    while (chunk := _on_loop(loop, next_chunk(chunks))) is not None:
        yield chunk


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
