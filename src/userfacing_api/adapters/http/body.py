"""A raw request body, read off the connection chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from userfacing_api.adapters.http.multipart import BODY_ERRORS, UPLOAD_CHUNK_SIZE
from userfacing_api.domain.errors import BadRequest


async def body_chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The body in chunks of at most `UPLOAD_CHUNK_SIZE`; a body cut short is `BadRequest`."""
    try:
        async for chunk in request.content.iter_chunked(UPLOAD_CHUNK_SIZE):
            yield chunk
    except BODY_ERRORS as err:
        raise BadRequest("The upload was interrupted or its body is malformed") from err
