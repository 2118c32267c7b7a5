"""Reading and writing local files in fixed-size chunks, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import aiofiles

from decode_cloud.progress import Transfer

CHUNK_SIZE = 4 * 1024 * 1024
"""Bytes read or written per trip to the file thread: few trips, as each costs a GIL hand-off."""
DEPTH = 4
"""Chunks waiting between the disk and the network: with `CHUNK_SIZE`, the memory a
transfer holds (16 MiB), whatever the size of the file."""
T = TypeVar("T")


async def read_chunks(
    path: Path,
    offset: int = 0,
    length: int | None = None,
    depth: int = DEPTH,
    chunk_size: int = CHUNK_SIZE,
) -> AsyncIterator[bytes]:
    """`length` bytes of `path` from `offset` (to the end when None), a chunk at a time.

    The disk is read ahead while the network sends: up to `depth` chunks wait. An
    empty range opens no file.
    """
    if length == 0:
        return

    async def produce(put: Callable[[bytes], Awaitable[None]]) -> None:
        left = length
        async with aiofiles.open(path, "rb") as handle:
            await handle.seek(offset)
            while left is None or left > 0:
                chunk = await handle.read(chunk_size if left is None else min(chunk_size, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                await put(chunk)

    async for chunk in _pipelined(produce, depth):
        yield chunk


async def write_chunks(
    path: Path, pieces: AsyncIterator[bytes], append: bool, transfer: Transfer
) -> int:
    """Write `pieces` to `path` (after its end when `append`); the bytes written.

    Pieces are written in batches of `CHUNK_SIZE` bytes, without joining them, while
    the network is read on: up to `DEPTH` batches wait.
    """
    written = 0
    async with aiofiles.open(path, "ab" if append else "wb") as handle:

        async def produce(put: Callable[[list[bytes]], Awaitable[None]]) -> None:
            batch: list[bytes] = []
            size = 0
            async for piece in pieces:
                batch.append(piece)
                size += len(piece)
                if size >= CHUNK_SIZE:
                    await put(batch)
                    batch, size = [], 0
            await put(batch)

        async for batch in _pipelined(produce):
            await handle.writelines(batch)
            size = sum(map(len, batch))
            written += size
            transfer.advance(size)
    return written


async def _pipelined(
    produce: Callable[[Callable[[T], Awaitable[None]]], Awaitable[None]],
    depth: int = DEPTH,
) -> AsyncIterator[T]:
    """What `produce` puts, while it goes on producing: a bounded queue between the two."""
    queue: asyncio.Queue[T | Exception | None] = asyncio.Queue(maxsize=max(1, depth))

    async def run() -> None:
        try:
            await produce(queue.put)
        except Exception as err:  # handed over: the consumer raises it
            await queue.put(err)
        else:
            await queue.put(None)

    producer = asyncio.create_task(run())
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        producer.cancel()
        with suppress(asyncio.CancelledError):
            await producer


async def run_bounded(jobs: Iterable[Callable[[], Awaitable[None]]], parallel: int) -> None:
    """Run the jobs at most `parallel` at a time; the first failure cancels the rest."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            await job()

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, parallel)):
            group.create_task(worker())
