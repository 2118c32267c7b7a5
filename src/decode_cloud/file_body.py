"""A byte range of a local file as a request body, handed to the kernel where it can be.

On a plain TCP connection the range goes out with `loop.sendfile` (`os.sendfile`): the
bytes move from the page cache to the socket without being copied through this
process, which leaves the CPU to whatever shares the machine (often the service
itself). Where the kernel cannot send it (TLS, as to presigned S3 URLs; an event loop
without sendfile), the rest of the range is read in chunks off the event loop and
written through aiohttp instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_writer import StreamWriter
from aiohttp.payload import Payload

from decode_cloud.errors import LocalPathError
from decode_cloud.local_io import CHUNK_SIZE, read_chunks
from decode_cloud.progress import Transfer

SENDFILE_SLICE = 8 * 1024 * 1024
"""Bytes per `loop.sendfile` call: the progress advances after each."""


class FileRange(Payload):
    """`length` bytes of `path` from `offset`, of known size: the request announces a
    `Content-Length` (as curl's does), never chunked encoding. Requests carrying it
    must not ask aiohttp to compress: sendfile bypasses the writer.

    The file is opened anew on each write, so aiohttp may send the body again (on a
    307/308 redirect, or on a fresh connection when a kept-alive one turned out
    closed); the progress counts each byte once however often it is sent.
    """

    _autoclose = True
    """No file stays open between writes."""

    def __init__(
        self,
        path: Path,
        transfer: Transfer,
        offset: int,
        length: int,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        """`chunk_size`: the reads of the chunked path, where sendfile cannot be used."""
        super().__init__(path)
        self._path = path
        self._transfer = transfer
        self._offset = offset
        self._length = length
        self._chunk_size = chunk_size
        self._reported = 0

    @property
    def size(self) -> int:
        return self._length

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a file range is streamed, never decoded")

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        length = self._length if content_length is None else min(self._length, content_length)
        sent = await self._sendfile(writer, length)
        if sent < length:
            async for chunk in read_chunks(
                self._path, self._offset + sent, length - sent, chunk_size=self._chunk_size
            ):
                await writer.write(chunk)
                sent += len(chunk)
                self._progress(sent)
        if sent < length:
            raise LocalPathError(f"{self._path} got shorter while being uploaded")

    async def _sendfile(self, writer: AbstractStreamWriter, length: int) -> int:
        """Send what the kernel can of the range's first `length` bytes; how many it sent
        (none when the connection or the loop has no sendfile, or the body is framed)."""
        transport = writer.transport
        if not isinstance(writer, StreamWriter) or writer.chunked or transport is None:
            return 0
        loop = asyncio.get_running_loop()
        # What aiohttp holds back (the request's headers) must go first; what is already
        # in the transport's buffer (a multipart preamble), loop.sendfile sends first.
        writer.send_headers()
        sent = 0
        with await asyncio.to_thread(self._path.open, "rb") as handle:
            while sent < length:
                try:
                    moved = await loop.sendfile(
                        transport,
                        handle,
                        self._offset + sent,
                        min(SENDFILE_SLICE, length - sent),
                        fallback=False,
                    )
                except (NotImplementedError, RuntimeError):
                    # TLS, or no sendfile on this loop or socket: raised before a byte of
                    # the slice left, so the chunked path goes on from `sent`.
                    return sent
                if not moved:
                    return sent
                sent += moved
                self._progress(sent)
        return sent

    def _progress(self, sent: int) -> None:
        """Advance the transfer to `sent` bytes of the range, bytes sent again excepted."""
        if sent > self._reported:
            self._transfer.advance(sent - self._reported)
            self._reported = sent
