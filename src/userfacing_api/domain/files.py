"""Files in a user's private tree: what the storage reports about them.

Where they lie is `domain.paths.UserPath`; `FileInfo.path` is the text of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
