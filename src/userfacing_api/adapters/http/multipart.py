"""The file of a multipart/form-data upload, read straight off the connection.

`request.post()` would hold the whole body (and is capped by `client_max_size`);
here the file part is handed on chunk by chunk as it arrives, so uploads of any
size take constant memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import BodyPartReader, ClientPayloadError, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from userfacing_api.domain.errors import BadRequest, InvalidInput

UPLOAD_CHUNK_SIZE = 1024 * 1024

# What reading a body raises when the client sends garbage (bad boundaries, part
# headers that do not parse) or goes away midway.
BODY_ERRORS = (ValueError, ConnectionError, ClientPayloadError, HttpProcessingError)


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    chunks: AsyncIterator[bytes]


async def file_field(request: web.Request, field: str) -> UploadedFile:
    """The first part of the form named `field`, which must carry a file name.

    Parts before it are skipped without being kept. Raises `InvalidInput` when
    the body is not a form or holds no such file, `BadRequest` when it is malformed.
    """
    if request.content_type != "multipart/form-data":
        raise InvalidInput(f"Expected a multipart/form-data body with a {field!r} file")
    try:
        reader = await request.multipart()
    except ValueError as err:
        raise InvalidInput("The multipart/form-data body has no boundary") from err
    while True:
        try:
            part = await reader.next()
        except BODY_ERRORS as err:
            raise BadRequest("The multipart/form-data body is malformed") from err
        if part is None:
            raise InvalidInput(f"The form has no {field!r} file")
        if isinstance(part, BodyPartReader) and part.name == field:
            if not part.filename:
                raise InvalidInput(f"The {field!r} field carries no file name")
            return UploadedFile(part.filename, _chunks(reader, part))


async def _chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    """The part's bytes, ending only once the boundary after them has arrived.

    The reader takes the end of the body for the end of the part; insisting on
    the boundary keeps a body cut short from being stored as a whole file.
    """
    try:
        while chunk := await part.read_chunk(UPLOAD_CHUNK_SIZE):
            yield chunk
        await reader.next()
    except BODY_ERRORS as err:
        raise BadRequest("The upload was interrupted or its body is malformed") from err
