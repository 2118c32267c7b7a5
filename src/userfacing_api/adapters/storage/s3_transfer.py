"""Moving bytes into and within S3 without holding more than one part in memory.

A stream that fits in one part is stored with a single `put_object`; a longer one
goes through a multipart upload, which S3 only shows under its key once it is
completed. Whatever interrupts a multipart upload or copy (the source failing,
the storage failing, the task being cancelled) aborts it, so no invisible parts
are left behind to be paid for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from contextlib import aclosing
from typing import Any

from userfacing_api.adapters.storage.s3_errors import s3_errors
from userfacing_api.domain.errors import InvalidInput

logger = logging.getLogger(__name__)

MAX_PARTS = 10_000
"""S3's limit on the parts of one multipart upload."""


async def upload_stream(
    client: Any, bucket: str, key: str, chunks: AsyncIterable[bytes], part_size: int, path: str
) -> None:
    """Store `chunks` under `key`; errors raised by `chunks` itself pass through unchanged."""
    async with aclosing(_parts(chunks, part_size)) as parts:
        first = await anext(parts, b"")
        second = await anext(parts, None)
        if second is None:
            with s3_errors(path):
                await client.put_object(Bucket=bucket, Key=key, Body=first)
            return

        async def send(upload_id: str) -> list[dict[str, Any]]:
            sent: list[dict[str, Any]] = []

            async def upload(part: bytes) -> None:
                number = len(sent) + 1
                if number > MAX_PARTS:
                    raise InvalidInput(
                        f"Files above {MAX_PARTS * part_size} bytes cannot be stored"
                    )
                with s3_errors(path):
                    answer = await client.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part
                    )
                sent.append({"ETag": answer["ETag"], "PartNumber": number})

            await upload(first)
            await upload(second)
            async for part in parts:
                await upload(part)
            return sent

        await _multipart(client, bucket, key, path, send)


async def copy_large_object(
    client: Any, bucket: str, source: str, target: str, size: int, part_size: int, path: str
) -> None:
    """Copy an object too large for `copy_object` (above 5 GiB) part by part inside S3."""

    async def send(upload_id: str) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        for number, offset in enumerate(range(0, size, part_size), start=1):
            last = min(offset + part_size, size) - 1
            with s3_errors(path):
                answer = await client.upload_part_copy(
                    Bucket=bucket,
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": bucket, "Key": source},
                    CopySourceRange=f"bytes={offset}-{last}",
                )
            sent.append({"ETag": answer["CopyPartResult"]["ETag"], "PartNumber": number})
        return sent

    await _multipart(client, bucket, target, path, send)


async def _multipart(
    client: Any,
    bucket: str,
    key: str,
    path: str,
    send: Callable[[str], Awaitable[list[dict[str, Any]]]],
) -> None:
    with s3_errors(path):
        created = await client.create_multipart_upload(Bucket=bucket, Key=key)
    upload_id: str = created["UploadId"]
    try:
        parts = await send(upload_id)
        with s3_errors(path):
            await client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
    except BaseException:
        # Shielded so that a second cancellation cannot skip the clean-up.
        await asyncio.shield(_abort(client, bucket, key, upload_id))
        raise


async def _abort(client: Any, bucket: str, key: str, upload_id: str) -> None:
    try:
        await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception:
        logger.exception("Could not abort the multipart upload %s of %s", upload_id, key)


async def _parts(chunks: AsyncIterable[bytes], part_size: int) -> AsyncGenerator[bytes, None]:
    """Regroup `chunks` into parts of exactly `part_size` bytes; the last one may be shorter."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_size:
            with memoryview(buffer) as view:
                part = bytes(view[:part_size])
            del buffer[:part_size]
            yield part
    if buffer:
        yield bytes(buffer)
