"""Storage of users' files.

Users and paths arrive as `UserId` and `UserPath`, checked and normalised where
they entered the system, so an adapter never parses them again. It still
confines each operation to the user's tree on its own medium (for example
symlinks on a local disk), because it is the last line of defence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime

from userfacing_api.domain.errors import Unavailable
from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath


class StorageUnavailable(Unavailable):
    """The storage medium failed or cannot be reached."""


class FileStorage(ABC):
    @abstractmethod
    async def stat(self, user_id: UserId, path: UserPath) -> FileInfo | None:
        """Metadata of a file or folder, or None when nothing exists at `path`.

        The root is always a folder.
        """

    @abstractmethod
    async def list(self, user_id: UserId, folder: UserPath, *, recursive: bool) -> list[FileInfo]:
        """Files and folders below `folder` (all levels when `recursive`), any order.

        Raises `NotFound` when `folder` is not an existing folder.
        """

    @abstractmethod
    async def write(
        self, user_id: UserId, path: UserPath, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        """Store the bytes at `path`, creating parent folders.

        Atomic: the file appears under its name only once every chunk is stored;
        if `chunks` raises, nothing is left behind and the old content (if any)
        is untouched.
        """

    @abstractmethod
    def read(
        self, user_id: UserId, path: UserPath, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream the bytes of the file at `path` from `start` up to `end` (exclusive).

        Raises `NotFound` when no file exists there.
        """

    @abstractmethod
    async def make_folder(self, user_id: UserId, path: UserPath) -> None:
        """Create the folder and its parents; an existing folder is fine."""

    @abstractmethod
    async def move(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        """Move a file or an empty folder; creates the target's parents.

        A file replaces an existing file at `target`; any other existing entry
        there (a folder, or a file when moving a folder) raises `AlreadyExists`.
        """

    @abstractmethod
    async def delete(self, user_id: UserId, path: UserPath) -> None:
        """Remove a file or a whole folder; nothing there is not an error."""

    @abstractmethod
    def uri(self, user_id: UserId, path: UserPath) -> str:
        """Where the worker side finds `path`: an absolute local path or `s3://bucket/key`."""

    @abstractmethod
    async def presigned_download(
        self, user_id: UserId, path: UserPath, expires_in: int
    ) -> FileRequest | None:
        """A direct GET for the file, or None when this storage has no direct access."""

    @abstractmethod
    async def presigned_upload(
        self, user_id: UserId, folder: UserPath, expires_in: int
    ) -> FileRequest | None:
        """A direct POST uploading files into `folder`, or None without direct access."""

    async def sweep_leftovers(self, now: datetime) -> int:
        """Remove what interrupted writes left behind long enough ago (how long is
        the medium's to say); the number of leftovers removed. A storage whose
        writes leave nothing behind has nothing to do."""
        return 0

    @abstractmethod
    async def ping(self) -> None:
        """Raise `StorageUnavailable` unless the storage answers."""
