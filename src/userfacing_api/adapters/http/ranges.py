"""The `Range` request header (RFC 9110 section 14), for one range of bytes.

A header that cannot be parsed, uses another unit or asks for several ranges
is ignored, so the whole file is sent: the RFC allows this and it spares
multipart/byteranges responses no client of this API needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    """Bytes `start` up to `end` (exclusive) of a file of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


class RangeNotSatisfiable(Exception):
    """No byte of the file lies in the requested range (answered with 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"Range not satisfiable for {size} bytes")
        self.content_range = f"bytes */{size}"


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The range `header` asks for in a file of `size` bytes; None for the whole file.

    Raises `RangeNotSatisfiable` when the range starts beyond the end of the file
    or asks for the last zero bytes.
    """
    if not header:
        return None
    match = _SINGLE_RANGE.match(header.replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(size - suffix, 0), size, size)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last) + 1, size) if last else size
    return ByteRange(start, end, size)
