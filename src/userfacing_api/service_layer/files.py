"""Use cases on a user's private tree of files."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from userfacing_api.domain.errors import AlreadyExists, InvalidInput, NotAllowed, NotFound
from userfacing_api.domain.files import (
    ROOT_FOLDERS,
    UPLOAD_FOLDERS,
    FileInfo,
    FileRequest,
    FileType,
    is_root_folder,
    join,
    normalise_path,
    relative_to,
)
from userfacing_api.ports.storage import FileStorage

PRESIGNED_EXPIRY_SECONDS = 600


@dataclass(frozen=True)
class FolderEntry:
    """A file inside a folder being downloaded as a zip, with its path in the archive."""

    archive_path: str
    info: FileInfo


def check_user_id(user_id: str) -> str:
    """A user id names the top folder of a tree, so it must be one plain segment."""
    if not user_id or normalise_path(user_id) != user_id or "/" in user_id:
        raise InvalidInput("User id cannot name a folder")
    return user_id


class FileService:
    def __init__(self, storage: FileStorage) -> None:
        self._storage = storage
        self._prepared: set[str] = set()

    async def ensure_user_tree(self, user_id: str) -> None:
        """Create the five top-level folders the first time a user is seen."""
        if user_id in self._prepared:
            return
        check_user_id(user_id)
        for folder in ROOT_FOLDERS:
            await self._storage.make_folder(user_id, folder)
        self._prepared.add(user_id)

    async def list_folder(
        self, user_id: str, folder: str, *, show_dirs: bool, recursive: bool
    ) -> list[FileInfo]:
        await self.ensure_user_tree(user_id)
        path = normalise_path(folder)
        info = await self._storage.stat(user_id, path)
        if info is None or not info.is_dir:
            raise NotFound(f"Folder {folder!r} does not exist")
        entries = await self._storage.list(user_id, path, recursive=recursive)
        if not show_dirs:
            entries = [entry for entry in entries if not entry.is_dir]
        return sorted(entries, key=lambda entry: entry.path)

    async def stat(self, user_id: str, path: str) -> FileInfo:
        await self.ensure_user_tree(user_id)
        normalised = normalise_path(path)
        info = await self._storage.stat(user_id, normalised)
        if info is None:
            raise NotFound(f"File {path!r} does not exist")
        return info

    def read(
        self, user_id: str, info: FileInfo, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream a file previously returned by `stat`."""
        return self._storage.read(user_id, info.path, start, end)

    async def folder_entries(self, user_id: str, folder: FileInfo) -> list[FolderEntry]:
        """The files below `folder`, with their paths relative to it, for a zip download."""
        entries = await self._storage.list(user_id, folder.path, recursive=True)
        files = sorted((entry for entry in entries if not entry.is_dir), key=lambda e: e.path)
        return [FolderEntry(relative_to(entry.path, folder.path), entry) for entry in files]

    async def upload(
        self, user_id: str, kind: str, folder: str, filename: str, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        target_folder = self._upload_folder(kind, folder)
        name = normalise_path(filename)
        if not name or "/" in name:
            raise InvalidInput("File name must be a single path segment")
        await self.ensure_user_tree(user_id)
        path = join(target_folder, name)
        existing = await self._storage.stat(user_id, path)
        if existing is not None and existing.is_dir:
            raise AlreadyExists(f"A folder already exists at {path!r}")
        return await self._storage.write(user_id, path, chunks)

    async def create_folder(self, user_id: str, kind: str, folder: str) -> FileInfo:
        path = self._upload_folder(kind, folder)
        await self.ensure_user_tree(user_id)
        existing = await self._storage.stat(user_id, path)
        if existing is not None and not existing.is_dir:
            raise AlreadyExists(f"A file already exists at {path!r}")
        await self._storage.make_folder(user_id, path)
        return FileInfo(path=path, type=FileType.DIRECTORY)

    async def download_request(self, user_id: str, path: str) -> FileRequest | None:
        """A presigned GET for the file, or None when the storage has no direct access."""
        info = await self.stat(user_id, path)
        return await self._storage.presigned_download(user_id, info.path, PRESIGNED_EXPIRY_SECONDS)

    async def upload_request(self, user_id: str, kind: str, folder: str) -> FileRequest | None:
        """A presigned POST into the folder, or None when the storage has no direct access."""
        path = self._upload_folder(kind, folder)
        await self.ensure_user_tree(user_id)
        return await self._storage.presigned_upload(user_id, path, PRESIGNED_EXPIRY_SECONDS)

    async def rename(self, user_id: str, path: str, new_path: str) -> FileInfo:
        info = await self.stat(user_id, path)
        if is_root_folder(info.path):
            raise NotAllowed(f"{info.path or '/'!r} cannot be renamed")
        target = normalise_path(new_path)
        if is_root_folder(target):
            raise NotAllowed(f"{target or '/'!r} is a reserved folder")
        if target.split("/", 1)[0] not in ROOT_FOLDERS:
            raise InvalidInput(f"{target!r} must lie inside one of {', '.join(ROOT_FOLDERS)}")
        if info.is_dir and await self._storage.list(user_id, info.path, recursive=False):
            raise NotAllowed("Only files and empty folders can be renamed")
        if target == info.path:
            return info
        if await self._storage.stat(user_id, target) is not None:
            raise AlreadyExists(f"{target!r} already exists")
        await self._storage.move(user_id, info.path, target)
        moved = await self._storage.stat(user_id, target)
        if moved is None:
            raise NotFound(f"{target!r} vanished during the rename")
        return moved

    async def delete(self, user_id: str, path: str) -> None:
        """Delete a file or folder; the root and the five folders are emptied, not removed."""
        await self.ensure_user_tree(user_id)
        normalised = normalise_path(path)
        if normalised == "":
            for folder in ROOT_FOLDERS:
                await self._empty(user_id, folder)
        elif normalised in ROOT_FOLDERS:
            await self._empty(user_id, normalised)
        else:
            await self._storage.delete(user_id, normalised)

    async def _empty(self, user_id: str, folder: str) -> None:
        for entry in await self._storage.list(user_id, folder, recursive=False):
            await self._storage.delete(user_id, entry.path)

    @staticmethod
    def _upload_folder(kind: str, folder: str) -> str:
        if kind not in UPLOAD_FOLDERS:
            raise InvalidInput(f"Type must be one of {', '.join(UPLOAD_FOLDERS)}, got {kind!r}")
        return join(kind, normalise_path(folder))
