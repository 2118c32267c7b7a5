"""Upload sessions on the local disk.

Each session is a folder `<root>/.upload-sessions/<user_id>/<upload_id>/` holding
its record (`session.json`), written by a second `LocalFileStorage` rooted at
`.upload-sessions` (atomic writes: temporary name, then rename), and one data file
that every part is written into at its offset (`local_session_files`). Completing
renames the data file to the user's path: the bytes are written once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import suppress
from pathlib import Path

from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.local_session_files import SessionFolder
from userfacing_api.adapters.storage.upload_records import (
    SESSIONS_FOLDER,
    UnreadableRecord,
    dump_record,
    load_record,
)
from userfacing_api.domain.errors import BadRequest, InvalidInput, NotFound
from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT, UserPath
from userfacing_api.domain.uploads import UploadSession
from userfacing_api.ports.storage import StorageUnavailable
from userfacing_api.ports.uploads import UploadStorage

logger = logging.getLogger(__name__)

RECORD_NAME = "session.json"


class LocalUploadStorage(UploadStorage):
    def __init__(self, files: LocalFileStorage, sessions: LocalFileStorage, sessions_root: str):
        """`sessions` is a storage rooted at `sessions_root`, where session folders live."""
        self._files = files
        self._sessions = sessions
        self._sessions_root = sessions_root

    @classmethod
    async def create(cls, files: LocalFileStorage, user_data_root: Path) -> LocalUploadStorage:
        """Sessions kept below `user_data_root` (absolute), beside the users' trees."""
        root = user_data_root / SESSIONS_FOLDER
        return cls(files, await LocalFileStorage.create(root), str(root))

    async def begin(self, user_id: UserId, path: UserPath) -> str:
        return ""

    async def save(self, session: UploadSession) -> None:
        await self._sessions.write(
            session.user_id, _record_path(session.upload_id), _single(dump_record(session))
        )

    async def load(self, user_id: UserId, upload_id: str) -> UploadSession | None:
        try:
            raw = b"".join(
                [chunk async for chunk in self._sessions.read(user_id, _record_path(upload_id))]
            )
        except NotFound:
            return None
        try:
            session = load_record(raw)
        except UnreadableRecord:
            logger.warning("unreadable record of the upload %s", upload_id)
            return None
        return session if session.user_id == user_id else None

    async def sessions(self, user_id: UserId | None = None) -> list[UploadSession]:
        owners = [user_id] if user_id is not None else await self._owners()
        found: list[UploadSession] = []
        for owner in owners:
            try:
                folders = await self._sessions.list(owner, ROOT, recursive=False)
            except NotFound:
                continue
            for folder in folders:
                session = await self.load(owner, folder.path)
                if session is not None:
                    found.append(session)
        return found

    async def part_request(
        self, session: UploadSession, number: int, expires_in: int
    ) -> FileRequest | None:
        return None

    async def write_part(
        self, session: UploadSession, number: int, chunks: AsyncIterable[bytes]
    ) -> None:
        folder = self._folder(session)
        length = session.plan.length_of(number)
        offset = folder.offset_of(number)
        descriptor = await _opened(folder.open_part, number)
        try:
            received = 0
            async for chunk in chunks:
                # The use cases refuse longer parts too; here no byte may reach the next part.
                if received + len(chunk) > length:
                    raise BadRequest(f"Part {number} must be {length} bytes, got more")
                await asyncio.to_thread(folder.write_at, descriptor, chunk, offset + received)
                received += len(chunk)
            if received != length:
                raise BadRequest(f"Part {number} must be {length} bytes, got {received}")
            await asyncio.to_thread(folder.finish_part, descriptor, number)
        finally:
            # Shielded: a second cancellation must not leave the part locked.
            await asyncio.shield(asyncio.to_thread(os.close, descriptor))

    async def stored_parts(self, session: UploadSession) -> dict[int, int]:
        return await asyncio.to_thread(self._folder(session).stored)

    async def assemble(self, session: UploadSession) -> FileInfo:
        folder = self._folder(session)
        descriptor = await _opened(folder.lock_for_completion)
        try:
            info = await self._files.adopt(session.user_id, session.path, folder.data)
        finally:
            await asyncio.shield(asyncio.to_thread(os.close, descriptor))
        await asyncio.to_thread(folder.clear_markers)
        return info

    async def discard(self, session: UploadSession) -> None:
        await self._sessions.delete(session.user_id, UserPath(session.upload_id))

    def _folder(self, session: UploadSession) -> SessionFolder:
        """The session's folder; user ids and upload ids hold no `/` and no leading dot."""
        path = os.path.join(self._sessions_root, session.user_id, session.upload_id)
        return SessionFolder(path, session)

    async def _owners(self) -> list[UserId]:
        """The users who have a folder of sessions."""
        try:
            names = await asyncio.to_thread(_folders_in, self._sessions_root)
        except OSError as err:
            raise StorageUnavailable("The upload sessions cannot be listed") from err
        owners = []
        for name in names:
            with suppress(InvalidInput):
                owners.append(UserId(name))
        return owners


def _record_path(upload_id: str) -> UserPath:
    return UserPath(upload_id) / RECORD_NAME


async def _opened(opening: Callable[..., int], *arguments: int) -> int:
    """The descriptor `opening` returns from a worker thread.

    Were the caller cancelled meanwhile, the thread would still open (and lock)
    the file: it is then closed as soon as it arrives instead of staying locked.
    """
    task = asyncio.ensure_future(asyncio.to_thread(opening, *arguments))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_close_opened)
        raise


def _close_opened(task: asyncio.Future[int]) -> None:
    if not task.cancelled() and task.exception() is None:
        os.close(task.result())


def _folders_in(root: str) -> list[str]:
    if not os.path.isdir(root):
        return []
    with os.scandir(root) as entries:
        return [str(entry.name) for entry in entries if entry.is_dir(follow_symlinks=False)]


async def _single(content: bytes) -> AsyncIterator[bytes]:
    yield content
