"""Use cases on a user's private tree of files.

Paths arrive as the text a client sent and become `UserPath`s here, once; the
caller names the user with a `UserId` it made where the request came in.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from userfacing_api.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotAllowed,
    NotFound,
    PreconditionFailed,
    invalid_input_about,
)
from userfacing_api.domain.files import FileInfo, FileRequest, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT_FOLDERS, UPLOAD_FOLDERS, TopFolder, UserPath
from userfacing_api.ports.storage import FileStorage

PRESIGNED_EXPIRY_SECONDS = 600


@dataclass(frozen=True)
class FolderEntry:
    """A file inside a folder being downloaded as a zip, with its path in the archive."""

    archive_path: str
    info: FileInfo


class FileService:
    def __init__(self, storage: FileStorage) -> None:
        self._storage = storage
        self._prepared: set[UserId] = set()

    async def ensure_user_tree(self, user_id: UserId) -> None:
        """Create the five top-level folders the first time a user is seen."""
        if user_id in self._prepared:
            return
        for folder in ROOT_FOLDERS:
            await self._storage.make_folder(user_id, folder.path)
        self._prepared.add(user_id)

    async def list_folder(
        self, user_id: UserId, folder: str, *, show_dirs: bool, recursive: bool
    ) -> list[FileInfo]:
        """The entries of `folder`, sorted by path.

        The storage's `list` refuses what is not a folder, so no separate `stat` is
        needed (one trip to the storage instead of two); its refusal is told in the
        words of the path the caller sent.
        """
        await self.ensure_user_tree(user_id)
        try:
            entries = await self._storage.list(user_id, UserPath(folder), recursive=recursive)
        except NotFound:
            raise NotFound(f"Folder {folder!r} does not exist") from None
        if not show_dirs:
            entries = [entry for entry in entries if not entry.is_dir]
        return sorted(entries, key=lambda entry: entry.path)

    async def stat(self, user_id: UserId, path: str) -> FileInfo:
        await self.ensure_user_tree(user_id)
        info = await self._storage.stat(user_id, UserPath(path))
        if info is None:
            raise NotFound(f"File {path!r} does not exist")
        return info

    def read(
        self, user_id: UserId, info: FileInfo, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream a file previously returned by `stat`."""
        return self._storage.read(user_id, UserPath(info.path), start, end)

    async def folder_entries(self, user_id: UserId, folder: FileInfo) -> list[FolderEntry]:
        """The files below `folder`, with their paths relative to it, for a zip download."""
        path = UserPath(folder.path)
        entries = await self._storage.list(user_id, path, recursive=True)
        files = sorted((entry for entry in entries if not entry.is_dir), key=lambda e: e.path)
        return [FolderEntry(path.relative(entry.path), entry) for entry in files]

    async def upload(
        self, user_id: UserId, kind: str, folder: str, filename: str, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        target_folder = _upload_folder(kind, folder)
        with invalid_input_about("filename"):
            name = UserPath(filename)
        if name.is_root or "/" in name:
            raise InvalidInput("File name must be a single path segment", ("filename",))
        await self.ensure_user_tree(user_id)
        path = target_folder / name
        await self._refuse_folder_at(user_id, path)
        return await self._storage.write(user_id, path, chunks)

    async def upload_target(
        self, user_id: UserId, path: str, *, make_parents: bool = False
    ) -> UserPath:
        """The path of a file about to be uploaded, checked as `upload` checks it.

        With `make_parents`, the folders above it are created too.
        """
        target = UserPath(path)
        kind, _, rest = target.partition("/")
        _upload_folder(kind, "")
        if not rest:
            raise InvalidInput(f"The path must name a file inside {kind or 'a folder'}/")
        await self.ensure_user_tree(user_id)
        await self._refuse_folder_at(user_id, target)
        if make_parents:
            await self._storage.make_folder(user_id, target.parent)
        return target

    async def create_folder(self, user_id: UserId, kind: str, folder: str) -> FileInfo:
        path = _upload_folder(kind, folder)
        await self.ensure_user_tree(user_id)
        existing = await self._storage.stat(user_id, path)
        if existing is not None and not existing.is_dir:
            raise AlreadyExists(f"A file already exists at {path!r}")
        await self._storage.make_folder(user_id, path)
        return FileInfo(path=path, type=FileType.DIRECTORY)

    async def download_request(self, user_id: UserId, path: str) -> FileRequest | None:
        """A presigned GET for the file, or None when the storage has no direct access."""
        info = await self.stat(user_id, path)
        return await self._storage.presigned_download(
            user_id, UserPath(info.path), PRESIGNED_EXPIRY_SECONDS
        )

    async def upload_request(self, user_id: UserId, kind: str, folder: str) -> FileRequest | None:
        """A presigned POST into the folder, or None when the storage has no direct access."""
        path = _upload_folder(kind, folder)
        await self.ensure_user_tree(user_id)
        return await self._storage.presigned_upload(user_id, path, PRESIGNED_EXPIRY_SECONDS)

    async def rename(
        self, user_id: UserId, path: str, new_path: str, *, replace: bool = True
    ) -> FileInfo:
        """Move a file or an empty folder to `new_path`.

        An existing file at `new_path` is replaced, as the original service does,
        unless `replace` is false (`PreconditionFailed` then); an existing folder
        there is never replaced.
        """
        info = await self.stat(user_id, path)
        source = UserPath(info.path)
        if source.is_reserved:
            raise NotAllowed(f"{source or '/'!r} cannot be renamed")
        with invalid_input_about("new_path"):
            target = UserPath(new_path)
        if target.is_reserved:
            raise NotAllowed(f"{target or '/'!r} is a reserved folder")
        if target.top is None:
            raise InvalidInput(
                f"{target!r} must lie inside one of {', '.join(ROOT_FOLDERS)}", ("new_path",)
            )
        if info.is_dir and await self._storage.list(user_id, source, recursive=False):
            raise NotAllowed("Only files and empty folders can be renamed")
        if target == source:
            return info
        existing = await self._storage.stat(user_id, target)
        if existing is not None:
            if existing.is_dir or info.is_dir:
                raise AlreadyExists(f"{target!r} already exists")
            if not replace:
                raise PreconditionFailed(f"{target!r} already exists")
        await self._storage.move(user_id, source, target)
        moved = await self._storage.stat(user_id, target)
        if moved is None:
            raise NotFound(f"{target!r} vanished during the rename")
        return moved

    async def delete(self, user_id: UserId, path: str) -> None:
        """Delete a file or folder; the root and the five folders are emptied, not removed."""
        await self.ensure_user_tree(user_id)
        normalised = UserPath(path)
        if normalised.is_root:
            for folder in ROOT_FOLDERS:
                await self._empty(user_id, folder.path)
        elif normalised.is_reserved:
            await self._empty(user_id, normalised)
        else:
            await self._storage.delete(user_id, normalised)

    async def _empty(self, user_id: UserId, folder: UserPath) -> None:
        for entry in await self._storage.list(user_id, folder, recursive=False):
            await self._storage.delete(user_id, UserPath(entry.path))

    async def _refuse_folder_at(self, user_id: UserId, path: UserPath) -> None:
        existing = await self._storage.stat(user_id, path)
        if existing is not None and existing.is_dir:
            raise AlreadyExists(f"A folder already exists at {path!r}")


def _upload_folder(kind: str, folder: str) -> UserPath:
    if kind not in UPLOAD_FOLDERS:
        raise InvalidInput(
            f"Type must be one of {', '.join(UPLOAD_FOLDERS)}, got {kind!r}", ("kind",)
        )
    with invalid_input_about("folder"):
        return TopFolder(kind).path / folder
