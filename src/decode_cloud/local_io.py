"""Reading and writing local files in fixed-size chunks, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

import aiofiles

from decode_cloud.progress import Transfer

CHUNK_SIZE = 1024 * 1024


async def read_chunks(
    path: Path, transfer: Transfer, offset: int = 0, length: int | None = None
) -> AsyncIterator[bytes]:
    """`length` bytes of `path` from `offset` (to the end when None), a chunk at a time."""
    left = length
    async with aiofiles.open(path, "rb") as handle:
        await handle.seek(offset)
        while left is None or left > 0:
            chunk = await handle.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            transfer.advance(len(chunk))
            yield chunk


async def run_bounded(jobs: Iterable[Callable[[], Awaitable[None]]], parallel: int) -> None:
    """Run the jobs at most `parallel` at a time; the first failure cancels the rest."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            await job()

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, parallel)):
            group.create_task(worker())
