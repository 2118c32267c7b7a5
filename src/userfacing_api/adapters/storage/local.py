"""Users' files on the local disk: one folder per user below a root folder.

The tree of user `u` is `<root>/u/`. Every operation resolves the real location
of the path it is given and refuses it (as if nothing were there) when that
location lies outside the user's folder, so a symlink left in a tree, for
example by a job, never leads to another user's files or the rest of the disk.
Blocking calls run in worker threads; file contents stream through `aiofiles`.

Uploads are written to a hidden temporary file beside the target and renamed
over it once complete, so a file is never seen half written.
"""

from __future__ import annotations

import asyncio
import builtins
import errno
import itertools
import os
import shutil
import stat as stat_mode
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from uuid import uuid4

import aiofiles
from aiofiles.threadpool.binary import AsyncBufferedIOBase

from userfacing_api.adapters.shared_trips import SharedTrips
from userfacing_api.adapters.storage.durability import sync_folder
from userfacing_api.adapters.storage.rules import (
    check_move,
    check_read,
    check_replace,
    check_write,
)
from userfacing_api.domain.errors import AlreadyExists, InvalidInput, NotFound, StorageFull
from userfacing_api.domain.files import FileInfo, FileRequest, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.storage import FileStorage, StorageUnavailable

TEMP_PREFIX = ".upload-"
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})
TEMP_SUFFIX = ".part"
DEFAULT_CHUNK_SIZE = 1024 * 1024
# A part file untouched for this long belongs to an upload that will never end.
PART_FILE_MAX_AGE = timedelta(hours=1)


def is_temp_name(name: str) -> bool:
    """True for the name of an upload still in progress (never shown to users)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


class LocalFileStorage(FileStorage):
    def __init__(self, root: Path, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self._root = os.path.abspath(root)
        self._real_root: str | None = None
        self._chunk_size = chunk_size
        self._lookups = SharedTrips()

    @classmethod
    async def create(cls, root: Path, chunk_size: int = DEFAULT_CHUNK_SIZE) -> LocalFileStorage:
        """A storage whose root folder exists (it is created when missing)."""
        storage = cls(root, chunk_size)
        try:
            await asyncio.to_thread(os.makedirs, storage._root, exist_ok=True)
        except OSError as err:
            raise StorageUnavailable("The file storage root cannot be created") from err
        return storage

    async def sweep_leftovers(self, now: datetime) -> int:
        """Remove upload part files not written to for `PART_FILE_MAX_AGE` (a crash or
        kill in the middle of an upload leaves them; a running upload keeps writing)."""
        cutoff = (now - PART_FILE_MAX_AGE).timestamp()
        return await asyncio.to_thread(_remove_part_files, self._root, cutoff)

    async def ping(self) -> None:
        if not await asyncio.to_thread(_is_writable_folder, self._root):
            raise StorageUnavailable("The file storage root is missing or not writable")

    def uri(self, user_id: UserId, path: UserPath) -> str:
        return os.path.normpath(os.path.join(self._root, user_id, path))

    async def presigned_download(
        self, user_id: UserId, path: UserPath, expires_in: int
    ) -> FileRequest | None:
        return None

    async def presigned_upload(
        self, user_id: UserId, folder: UserPath, expires_in: int
    ) -> FileRequest | None:
        return None

    async def stat(self, user_id: UserId, path: UserPath) -> FileInfo | None:
        return await self._lookups.run(partial(self._stat, user_id, path))

    async def list(self, user_id: UserId, folder: UserPath, *, recursive: bool) -> list[FileInfo]:
        return await self._lookups.run(partial(self._list, user_id, folder, recursive))

    async def make_folder(self, user_id: UserId, path: UserPath) -> None:
        await asyncio.to_thread(self._make_folder, user_id, path)

    async def move(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        await asyncio.to_thread(self._move, user_id, source, target)

    async def delete(self, user_id: UserId, path: UserPath) -> None:
        await asyncio.to_thread(self._delete, user_id, path)

    async def write(
        self, user_id: UserId, path: UserPath, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        target = await asyncio.to_thread(self._prepare_write, user_id, path)
        temp = os.path.join(os.path.dirname(target), f"{TEMP_PREFIX}{uuid4().hex}{TEMP_SUFFIX}")
        try:
            await _receive(await self._open_part(temp, path), chunks, path)
            with _os_errors(path):
                result = await asyncio.to_thread(_commit, temp, target)
        except BaseException:
            # Shielded so that a second cancellation cannot skip the clean-up.
            await asyncio.shield(asyncio.to_thread(_discard, temp))
            raise
        return _regular_file_info(path, result)

    async def adopt(self, user_id: UserId, path: UserPath, source: str) -> FileInfo:
        """Put the finished file `source` at `path` by renaming it: nothing is copied.

        `source` lies on the same disk, outside every user's tree (an upload session's
        data file); like `write`, the file appears at once, replacing an older one.
        """
        target = await asyncio.to_thread(self._prepare_write, user_id, path)
        with _os_errors(path):
            result = await asyncio.to_thread(_commit, source, target)
        return _regular_file_info(path, result)

    async def _open_part(self, temp: str, path: UserPath) -> AsyncBufferedIOBase:
        """A new, exclusive part file that an upload is written into before its rename."""
        with _os_errors(path):
            return await aiofiles.open(temp, "xb")

    async def read(
        self, user_id: UserId, path: UserPath, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_read(path, start, end)
        real = await asyncio.to_thread(self._locate_file, user_id, path)
        with _os_errors(path):
            handle = await aiofiles.open(real, "rb", opener=_open_no_follow)
        try:
            with _os_errors(path):
                await handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                size = self._chunk_size if remaining is None else min(self._chunk_size, remaining)
                with _os_errors(path):
                    chunk = await handle.read(size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            # Shielded: a second cancellation (a client leaving mid-download) must
            # not leave the file open.
            await asyncio.shield(handle.close())

    # The methods below block and run in worker threads.

    def _base(self, user_id: UserId) -> str:
        """The user's folder below the real root; never itself a symlink."""
        return os.path.join(self._resolved_root(), user_id)

    def _resolved_root(self) -> str:
        """The real location of the root, resolved once the root exists.

        Where the root lies is the operator's to decide, not the users', so it is
        not resolved again on every request; users' paths still are, below it.
        """
        if self._real_root is not None:
            return self._real_root
        real = os.path.realpath(self._root)
        if os.path.isdir(real):
            self._real_root = real
        return real

    def _locate(self, user_id: UserId, path: UserPath, *, creating: bool = False) -> str:
        return self._find(user_id, path, creating=creating)[0]

    def _find(
        self, user_id: UserId, path: UserPath, *, creating: bool = False
    ) -> tuple[str, os.stat_result | None]:
        """The real location of `path`, refused when it leaves the user's folder, and
        what `os.stat` finds there when that came at no cost (None: not looked at).

        Refusals are `NotFound` for lookups, so nothing outside the tree can be
        probed, and `InvalidInput` when something is to be created there.
        """
        base = self._base(user_id)
        refusal = InvalidInput if creating else NotFound
        segments = path.split("/") if path else []
        if any(is_temp_name(segment) for segment in segments):
            raise refusal(f"{path!r} is a reserved name")
        plain = _plain_location(base, segments)
        if plain is not None:
            return plain
        real = os.path.realpath(os.path.join(base, path))
        if not _is_within(real, base):
            raise refusal(f"{path!r} leads outside the user's files")
        return real, None

    def _find_stat(self, user_id: UserId, path: UserPath) -> tuple[str, os.stat_result | None]:
        """The real location of `path` (refused as by `_locate`) and its `os.stat`, None
        when nothing is there."""
        real, result = self._find(user_id, path)
        if result is None:
            with _os_errors(path):
                result = _stat_or_none(real)
        return real, result

    def _stat(self, user_id: UserId, path: UserPath) -> FileInfo | None:
        try:
            _, result = self._find_stat(user_id, path)
        except NotFound:
            return None
        if result is None:
            return FileInfo(path=path, type=FileType.DIRECTORY) if path.is_root else None
        return _file_info(path, result)

    def _locate_file(self, user_id: UserId, path: UserPath) -> str:
        real, result = self._find_stat(user_id, path)
        if result is None or not stat_mode.S_ISREG(result.st_mode):
            raise NotFound(f"File {path!r} does not exist")
        return real

    def _list(self, user_id: UserId, folder: UserPath, recursive: bool) -> builtins.list[FileInfo]:
        real, result = self._find_stat(user_id, folder)
        with _os_errors(folder):
            if result is None and folder.is_root:
                return []
            if result is None or not stat_mode.S_ISDIR(result.st_mode):
                raise NotFound(f"Folder {folder!r} does not exist")
            return _walk(real, folder, self._base(user_id), recursive)

    def _make_folder(self, user_id: UserId, path: UserPath) -> None:
        real = self._locate(user_id, path, creating=True)
        _make_folders(real, path, self._base(user_id))

    def _prepare_write(self, user_id: UserId, path: UserPath) -> str:
        check_write(path)
        real = self._locate(user_id, path, creating=True)
        with _os_errors(path):
            if os.path.isdir(real):
                raise AlreadyExists(f"A folder already exists at {path!r}")
        _make_folders(os.path.dirname(real), path, self._base(user_id))
        return real

    def _move(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        check_move(source, target)
        self._locate(user_id, source)
        entry = self._entry(user_id, source)
        destination = self._locate(user_id, target, creating=True)
        with _os_errors(source):
            if entry is None or not os.path.lexists(entry):
                raise NotFound(f"{source!r} does not exist")
            check_replace(target, os.path.isdir(entry), _entry_type(destination))
        base = self._base(user_id)
        _make_folders(os.path.dirname(destination), target, base)
        with _os_errors(source):
            os.rename(entry, destination)

    def _delete(self, user_id: UserId, path: UserPath) -> None:
        if path.is_root:
            with suppress(NotFound), _os_errors(path):
                _remove_tree(self._locate(user_id, path))
            return
        entry = self._entry(user_id, path)
        if entry is None:
            return
        with _os_errors(path):
            try:
                result = os.lstat(entry)
            except OSError as err:
                if _is_missing(err):
                    return
                raise
            if stat_mode.S_ISDIR(result.st_mode):
                _remove_tree(entry)
            else:
                os.unlink(entry)

    def _entry(self, user_id: UserId, path: UserPath) -> str | None:
        """`path` itself (not what a symlink there points to) inside its real parent.

        None when the parent lies outside the user's folder or the name is reserved.
        """
        if is_temp_name(path.name):
            return None
        try:
            return os.path.join(self._locate(user_id, path.parent), path.name)
        except NotFound:
            return None


async def _receive(handle: AsyncBufferedIOBase, chunks: AsyncIterable[bytes], path: str) -> None:
    """Store every chunk through `handle` and flush it to the disk.

    Only failures of the disk become port errors; whatever the chunk source
    raises (a dropped connection, say) passes through unchanged.
    """
    try:
        async for chunk in chunks:
            with _os_errors(path):
                await handle.write(chunk)
        with _os_errors(path):
            await handle.flush()
            await asyncio.to_thread(os.fsync, handle.fileno())
    finally:
        with _os_errors(path):
            await handle.close()


def _commit(temp: str, target: str) -> os.stat_result:
    try:
        os.replace(temp, target)
    except IsADirectoryError as err:
        raise AlreadyExists("A folder appeared where the file was being written") from err
    sync_folder(os.path.dirname(target))
    return os.stat(target)


def _remove_part_files(root: str, modified_before: float) -> int:
    removed = 0
    for folder, _, names in os.walk(root):
        for name in names:
            if not is_temp_name(name):
                continue
            path = os.path.join(folder, name)
            with suppress(FileNotFoundError):
                result = os.lstat(path)
                if stat_mode.S_ISREG(result.st_mode) and result.st_mtime < modified_before:
                    os.unlink(path)
                    removed += 1
    return removed


def _discard(temp: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(temp)


def _walk(real: str, folder: str, base: str, recursive: bool) -> list[FileInfo]:
    """Entries below `real`, named relative to the user's tree; symlinks are not descended."""
    entries: list[FileInfo] = []
    pending = [(real, folder)]
    while pending:
        directory, relative = pending.pop()
        prefix = f"{relative}/" if relative else ""
        for item in _scan(directory, first=directory == real):
            name = item.name
            if is_temp_name(name) or not _is_printable(name):
                continue
            path = prefix + name
            info = _describe(item, path, base)
            if info is None:
                continue
            entries.append(info)
            if recursive and info.is_dir and not item.is_symlink():
                pending.append((item.path, path))
    return entries


def _scan(directory: str, *, first: bool) -> list[os.DirEntry[str]]:
    """The entries of `directory`; a subfolder removed meanwhile is simply empty."""
    try:
        with os.scandir(directory) as listing:
            return list(listing)
    except OSError as err:
        if first or not _is_missing(err):
            raise
        return []


def _describe(item: os.DirEntry[str], path: str, base: str) -> FileInfo | None:
    """What a listing shows for one entry; None for escaping links and special files.

    A folder's own time is shown nowhere, and the directory entry already tells a
    folder apart, so a folder is not looked up again (one system call less each).
    """
    try:
        if item.is_symlink():
            target = os.path.realpath(item.path)
            if not _is_within(target, base) or target == base:
                return None
            return _file_info(path, os.stat(target))
        if item.is_dir(follow_symlinks=False):
            return FileInfo(path=path, type=FileType.DIRECTORY)
        return _file_info(path, item.stat(follow_symlinks=False))
    except OSError as err:
        if _is_missing(err):
            return None
        raise


def _make_folders(real: str, path: str, base: str) -> None:
    try:
        os.makedirs(real, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        if _file_in_the_way(real, base):
            raise AlreadyExists(f"A file is in the way of {path!r}") from err
        raise StorageUnavailable("The file storage failed") from err
    except OSError as err:
        raise StorageUnavailable("The file storage failed") from err


def _file_in_the_way(real: str, base: str) -> bool:
    """True when `real` or one of its parents inside the user's folder is not a folder."""
    current = real
    while _is_within(current, base) and current != base:
        if os.path.lexists(current) and not os.path.isdir(current):
            return True
        current = os.path.dirname(current)
    return False


def _entry_type(real: str) -> FileType | None:
    """What is at `real` itself (a symlink counts as a file), None when nothing is."""
    if not os.path.lexists(real):
        return None
    return FileType.DIRECTORY if stat_mode.S_ISDIR(os.lstat(real).st_mode) else FileType.FILE


def _remove_tree(real: str) -> None:
    """Remove a folder and everything below it; symlinks inside are unlinked, not followed.

    Another request may remove parts of the folder at the same time, so a vanished
    entry is retried once before giving up.
    """
    for attempt in range(2):
        try:
            shutil.rmtree(real)
            return
        except FileNotFoundError:
            if not os.path.lexists(real) or attempt == 1:
                return


def _plain_location(base: str, segments: list[str]) -> tuple[str, os.stat_result] | None:
    """`base/segments…` and its `os.lstat`, when it and every folder on the way down from
    `base` exist and none is a symlink; None otherwise (the caller then asks `realpath`).

    The segments are normalised (no `.`, `..` or empty ones), so such a path is its own
    real location and its `lstat` is its `stat`: one system call per segment below the
    user's folder instead of `realpath`'s walk from `/` followed by a `stat`.
    """
    try:
        for current in itertools.accumulate(segments, os.path.join, initial=base):
            result = os.lstat(current)
            if stat_mode.S_ISLNK(result.st_mode):
                return None
    except OSError:
        return None
    return current, result


def _stat_or_none(real: str) -> os.stat_result | None:
    try:
        return os.stat(real)
    except OSError as err:
        if _is_missing(err):
            return None
        raise


def _file_info(path: str, result: os.stat_result) -> FileInfo | None:
    """Metadata of a folder or regular file; None for anything else (sockets, devices)."""
    if stat_mode.S_ISDIR(result.st_mode):
        return FileInfo(path=path, type=FileType.DIRECTORY, modified=_modified(result))
    if stat_mode.S_ISREG(result.st_mode):
        return _regular_file_info(path, result)
    return None


def _regular_file_info(path: str, result: os.stat_result) -> FileInfo:
    return FileInfo(
        path=path,
        type=FileType.FILE,
        size=result.st_size,
        modified=_modified(result),
        etag=_etag(result),
    )


def _etag(result: os.stat_result) -> str:
    """Size, modification time and inode of the file.

    Every write renames a fresh file into place, so the inode tells apart two quick
    writes of the same size that a coarse file-system clock gives the same time.
    """
    return f'"{result.st_size:x}-{result.st_mtime_ns:x}-{result.st_ino:x}"'


def _modified(result: os.stat_result) -> datetime:
    return datetime.fromtimestamp(result.st_mtime_ns / 1e9, tz=UTC)


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _is_writable_folder(root: str) -> bool:
    return os.path.isdir(root) and os.access(root, os.W_OK | os.X_OK)


def _is_within(real: str, base: str) -> bool:
    return real == base or real.startswith(base + os.sep)


def _is_missing(err: OSError) -> bool:
    return isinstance(err, FileNotFoundError | NotADirectoryError) or err.errno == errno.ELOOP


def _is_printable(name: str) -> bool:
    """False for names that are not valid UTF-8 and so cannot be sent to a client."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextmanager
def _os_errors(path: str) -> Iterator[None]:
    """Translate an operating-system failure on `path` into a port error."""
    try:
        yield
    except OSError as err:
        if _is_missing(err) or isinstance(err, IsADirectoryError):
            raise NotFound(f"{path!r} does not exist") from err
        if err.errno in _NO_ROOM:
            raise StorageFull(f"The file storage is full: {path!r} could not be stored") from err
        raise StorageUnavailable("The file storage failed") from err
