"""Files in a user's private tree: paths, the five root folders, file metadata.

Paths in the domain are normalised strings relative to the user's tree: no
leading or trailing slash, segments separated by `/`, the empty string is the
root. `normalise_path` is the single gate every user-supplied path goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from userfacing_api.domain.errors import InvalidInput

ROOT_FOLDERS: tuple[str, ...] = ("config", "data", "artifact", "output", "log")
UPLOAD_FOLDERS: tuple[str, ...] = ("config", "data", "artifact")
MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255


class FileType(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"


@dataclass(frozen=True)
class FileInfo:
    """One entry of a user's tree. `size` is in bytes, None for folders."""

    path: str
    type: FileType
    size: int | None = None
    modified: datetime | None = None
    etag: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.type is FileType.DIRECTORY

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileRequest:
    """An HTTP request a client can make to move bytes directly (presigned URL)."""

    method: str
    url: str
    headers: dict[str, str]
    data: dict[str, str]


def normalise_path(raw: str) -> str:
    """Return the normalised relative form of `raw`, or raise `InvalidInput`.

    Rejects anything that could leave the user's tree: `..` segments, NUL bytes,
    backslashes and control characters. Leading, trailing and repeated slashes and
    `.` segments are dropped, so `/data//a/./b/` becomes `data/a/b`.

    Lengths count UTF-8 bytes, as file systems and object stores do; text that has
    no UTF-8 form (half a surrogate pair, an undecodable byte kept as one) is refused.
    """
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Path must be valid UTF-8 text") from None
    if len(encoded) > MAX_PATH_LENGTH:
        raise InvalidInput(f"Path is longer than {MAX_PATH_LENGTH} bytes")
    if "\\" in raw:
        raise InvalidInput("Path must not contain backslashes")
    if any(ord(char) < 32 or ord(char) == 127 for char in raw):
        raise InvalidInput("Path must not contain control characters")
    segments = [segment for segment in raw.split("/") if segment not in ("", ".")]
    for segment in segments:
        if segment == "..":
            raise InvalidInput("Path must not contain '..'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_LENGTH:
            raise InvalidInput(f"Path segment is longer than {MAX_SEGMENT_LENGTH} bytes")
    return "/".join(segments)


def join(*parts: str) -> str:
    """Join already-normalised paths, skipping empty parts."""
    return "/".join(part for part in parts if part)


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def is_root_folder(path: str) -> bool:
    """True for the tree root and the five folders that always exist."""
    return path == "" or path in ROOT_FOLDERS


def relative_to(path: str, folder: str) -> str:
    """`path` relative to `folder` (both normalised, `path` inside `folder`)."""
    if not folder:
        return path
    return path[len(folder) + 1 :]
