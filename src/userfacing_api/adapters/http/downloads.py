"""Streaming a file (with byte ranges and conditional GET) or a folder as a zip."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import AsyncIterator, Callable
from email.utils import format_datetime
from functools import partial
from urllib.parse import quote

from aiohttp import hdrs, web

from userfacing_api.adapters.http.app_keys import REQUEST_ID, metrics
from userfacing_api.adapters.http.conditional import (
    Validators,
    is_not_modified,
    range_applies,
    validators_of,
)
from userfacing_api.adapters.http.errors import error_response
from userfacing_api.adapters.http.ranges import RangeNotSatisfiable, requested_range
from userfacing_api.adapters.http.zip_stream import ZipMember, archive_length, zip_stream
from userfacing_api.domain.files import FileInfo
from userfacing_api.domain.identity import UserId
from userfacing_api.service_layer.files import FileService

logger = logging.getLogger("userfacing_api.http")

ROOT_ARCHIVE_NAME = "files"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Private: the content depends on who asks; no-cache: always revalidate with the ETag.
CACHE_CONTROL = "private, no-cache"

_TOKEN = re.compile(r"[!#$&'*+.^_`|~0-9A-Za-z-]+")
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\%]')


async def send_file(
    request: web.Request, files: FileService, user_id: UserId, info: FileInfo
) -> web.StreamResponse:
    """The file's bytes: 200, 206 for a satisfiable `Range`, 304 if the client's copy is current."""
    validators = validators_of(info)
    headers = _validator_headers(validators)
    headers[hdrs.CACHE_CONTROL] = CACHE_CONTROL
    if is_not_modified(request.headers, validators):
        return web.Response(status=304, headers=headers)
    size = info.size or 0
    byte_range = None
    if range_applies(request.headers, validators):
        try:
            byte_range = requested_range(request.headers.get(hdrs.RANGE), size)
        except RangeNotSatisfiable as err:
            headers[hdrs.CONTENT_RANGE] = err.content_range
            return error_response(416, "Requested range not satisfiable", headers)
    headers[hdrs.ACCEPT_RANGES] = "bytes"
    headers[hdrs.CONTENT_DISPOSITION] = attachment(info.name)
    if byte_range is None:
        start, end, status = 0, size, 200
    else:
        start, end, status = byte_range.start, byte_range.end, 206
        headers[hdrs.CONTENT_RANGE] = byte_range.content_range
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = mimetypes.guess_type(info.name)[0] or DEFAULT_CONTENT_TYPE
    response.content_length = end - start
    # Never more than the announced bytes, even if the file grows meanwhile.
    return await stream(request, response, files.read(user_id, info, start, end))


async def send_folder(
    request: web.Request, files: FileService, user_id: UserId, folder: FileInfo
) -> web.StreamResponse:
    """Every file below `folder` in a zip archive, with paths relative to it.

    The archive announces its `Content-Length` when every member is stored
    uncompressed; with a deflated (text) member it is sent chunked.
    """
    entries = await files.folder_entries(user_id, folder)
    members = [
        ZipMember(
            name=entry.archive_path,
            size=entry.info.size or 0,
            modified=entry.info.modified,
            chunks=partial(files.read, user_id, entry.info),
        )
        for entry in entries
    ]
    archive_name = f"{folder.name or ROOT_ARCHIVE_NAME}.zip"
    response = web.StreamResponse(
        headers={
            hdrs.CONTENT_DISPOSITION: attachment(archive_name),
            hdrs.CACHE_CONTROL: CACHE_CONTROL,
        }
    )
    response.content_type = "application/zip"
    length = await archive_length(members)
    if length is not None:
        response.content_length = length
    return await stream(request, response, zip_stream(members))


def attachment(filename: str) -> str:
    """A `Content-Disposition` value any browser saves under `filename` (RFC 6266).

    Plain names stay bare (`attachment; filename=exp1.zip`); others get an ASCII
    fallback and the exact name percent-encoded in `filename*`.
    """
    if _TOKEN.fullmatch(filename):
        return f"attachment; filename={filename}"
    fallback = _UNSAFE_IN_QUOTES.sub("_", filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


async def counted(
    chunks: AsyncIterator[bytes], count: Callable[[int], None]
) -> AsyncIterator[bytes]:
    """`chunks`, reporting the size of each to `count` as it passes."""
    async for chunk in chunks:
        count(len(chunk))
        yield chunk


async def stream(
    request: web.Request, response: web.StreamResponse, chunks: AsyncIterator[bytes]
) -> web.StreamResponse:
    """Send `chunks` as the body of `response`.

    Each chunk is fetched before the previous one is written: the first before
    the headers go out, so a file that vanished still gets a proper error
    response, and the last only once the source has finished (its file closed)
    when the client receives it. A failure after the headers can no longer
    change the status: the connection is closed so that the client sees an
    incomplete body instead of a short but seemingly complete one.
    """
    try:
        if request.method == hdrs.METH_HEAD:
            await response.prepare(request)
            return response
        chunk = await anext(chunks, None)
        await response.prepare(request)
        count = metrics(request).bytes_downloaded
        while chunk is not None:
            following = await anext(chunks, None)
            await response.write(chunk)
            count(len(chunk))
            chunk = following
        await response.write_eof()
    except Exception as err:
        if not response.prepared:
            raise
        _abort(request, err)
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return response


def _validator_headers(validators: Validators) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators.etag is not None:
        headers[hdrs.ETAG] = validators.etag
    if validators.last_modified is not None:
        headers[hdrs.LAST_MODIFIED] = format_datetime(validators.last_modified, usegmt=True)
    return headers


def _abort(request: web.Request, err: Exception) -> None:
    request_id = request.get(REQUEST_ID)
    if isinstance(err, ConnectionError):
        logger.info("client left during a download (request id %s): %s", request_id, err)
    else:
        logger.error("download failed after it started (request id %s)", request_id, exc_info=err)
    if request.transport is not None:
        request.transport.close()
