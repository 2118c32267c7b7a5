"""Upload sessions on the local disk.

Each session is a folder `<root>/.upload-sessions/<user_id>/<upload_id>/` holding
its record (`session.json`) and one file per part (`part-00001`, …). The folder
is kept by a second `LocalFileStorage` rooted at `.upload-sessions`, so records
and parts get the same guarantees as users' files: confined paths, atomic
writes (temporary name, then rename), streaming in constant memory.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import suppress
from pathlib import Path

from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.upload_records import (
    SESSIONS_FOLDER,
    UnreadableRecord,
    dump_record,
    load_record,
)
from userfacing_api.domain.errors import InvalidInput, NotFound
from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT, UserPath
from userfacing_api.domain.uploads import UploadSession
from userfacing_api.ports.storage import FileStorage, StorageUnavailable
from userfacing_api.ports.uploads import UploadStorage

logger = logging.getLogger(__name__)

RECORD_NAME = "session.json"
PART_PREFIX = "part-"


def part_name(number: int) -> str:
    return f"{PART_PREFIX}{number:05d}"


class LocalUploadStorage(UploadStorage):
    def __init__(self, files: FileStorage, sessions: LocalFileStorage, sessions_root: str):
        """`sessions` is a storage rooted at `sessions_root`, where session folders live."""
        self._files = files
        self._sessions = sessions
        self._sessions_root = sessions_root

    @classmethod
    async def create(cls, files: FileStorage, user_data_root: Path) -> LocalUploadStorage:
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
        await self._sessions.write(session.user_id, _part_path(session, number), chunks)
        if await self.load(session.user_id, session.upload_id) is None:
            # Discarded while the part arrived: writing it made the folder again.
            await self.discard(session)
            raise NotFound(f"Upload {session.upload_id!r} does not exist")

    async def stored_parts(self, session: UploadSession) -> dict[int, int]:
        try:
            entries = await self._sessions.list(
                session.user_id, UserPath(session.upload_id), recursive=False
            )
        except NotFound:
            return {}
        stored: dict[int, int] = {}
        for entry in entries:
            number = entry.name.removeprefix(PART_PREFIX)
            if entry.size is not None and entry.name.startswith(PART_PREFIX) and number.isdigit():
                stored[int(number)] = entry.size
        return stored

    async def assemble(self, session: UploadSession) -> FileInfo:
        info = await self._files.write(session.user_id, session.path, self._joined(session))
        for number in range(1, session.plan.part_count + 1):
            await self._sessions.delete(session.user_id, _part_path(session, number))
        return info

    async def discard(self, session: UploadSession) -> None:
        await self._sessions.delete(session.user_id, UserPath(session.upload_id))

    async def _joined(self, session: UploadSession) -> AsyncIterator[bytes]:
        for number in range(1, session.plan.part_count + 1):
            part = _part_path(session, number)
            async for chunk in self._sessions.read(session.user_id, part):
                yield chunk

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


def _part_path(session: UploadSession, number: int) -> UserPath:
    return UserPath(session.upload_id) / part_name(number)


def _folders_in(root: str) -> list[str]:
    if not os.path.isdir(root):
        return []
    with os.scandir(root) as entries:
        return [str(entry.name) for entry in entries if entry.is_dir(follow_symlinks=False)]


async def _single(content: bytes) -> AsyncIterator[bytes]:
    yield content
