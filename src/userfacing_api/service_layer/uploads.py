"""Use cases of upload sessions: resumable uploads of any size, in numbered parts."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from userfacing_api.domain.errors import AlreadyExists, BadRequest, Incomplete, NotFound
from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.uploads import (
    UploadProgress,
    UploadSession,
    number_ranges,
    plan_parts,
)
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.uploads import UploadStorage
from userfacing_api.service_layer.files import FileService

logger = logging.getLogger(__name__)

PART_URL_EXPIRY_SECONDS = 600
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class UploadService:
    def __init__(
        self,
        uploads: UploadStorage,
        files: FileService,
        clock: Clock,
        *,
        ttl: timedelta,
        max_size: int | None = None,
    ) -> None:
        self._uploads = uploads
        self._files = files
        self._clock = clock
        self._ttl = ttl
        self._max_size = max_size

    async def create(self, user_id: UserId, path: str, size: int) -> UploadProgress:
        plan = plan_parts(size, self._max_size)
        target = await self._files.upload_target(user_id, path)
        now = self._clock.now()
        session = UploadSession(
            upload_id=uuid4().hex,
            user_id=user_id,
            path=target,
            plan=plan,
            created_at=now,
            expires_at=now + self._ttl,
            storage_ref=await self._uploads.begin(user_id, target),
        )
        try:
            await self._uploads.save(session)
        except BaseException:
            # Shielded so that a cancelled request still releases what `begin` prepared.
            await asyncio.shield(self._uploads.discard(session))
            raise
        return UploadProgress(session, parts_done=[])

    async def list(self, user_id: UserId) -> list[UploadProgress]:
        """The user's open sessions (neither completed nor expired), oldest first."""
        now = self._clock.now()
        sessions = sorted(
            (
                session
                for session in await self._uploads.sessions(user_id)
                if session.completed is None and not session.is_expired(now)
            ),
            key=lambda session: session.created_at,
        )
        return list(await asyncio.gather(*(self._progress(session) for session in sessions)))

    async def get(self, user_id: UserId, upload_id: str) -> UploadProgress:
        return await self._progress(await self._session(user_id, upload_id))

    async def part_request(
        self, user_id: UserId, upload_id: str, number: int
    ) -> tuple[UploadSession, FileRequest | None]:
        """The session and a direct request for part `number`, or None to send it here."""
        session = await self._open_session(user_id, upload_id)
        session.plan.length_of(number)
        direct = await self._uploads.part_request(session, number, PART_URL_EXPIRY_SECONDS)
        return session, direct

    async def write_part(
        self,
        user_id: UserId,
        upload_id: str,
        number: int,
        chunks: AsyncIterable[bytes],
        declared_length: int | None,
    ) -> None:
        """Store a part sent through the service; `BadRequest` unless its length is exact."""
        session = await self._open_session(user_id, upload_id)
        expected = session.plan.length_of(number)
        if declared_length is not None and declared_length != expected:
            raise BadRequest(f"Part {number} must be {expected} bytes, got {declared_length}")
        await self._uploads.write_part(session, number, _exactly(chunks, expected, number))

    async def complete(self, user_id: UserId, upload_id: str) -> FileInfo:
        """Assemble the file once every part is stored; a repeated call answers the same."""
        session = await self._session(user_id, upload_id)
        if session.completed is not None:
            return session.completed
        missing = session.plan.missing_parts(await self._uploads.stored_parts(session))
        if missing:
            raise Incomplete(f"Parts missing or of the wrong size: {number_ranges(missing)}")
        await self._files.upload_target(user_id, session.path, make_parents=True)
        info = await self._uploads.assemble(session)
        await self._uploads.save(replace(session, completed=info))
        return info

    async def delete(self, user_id: UserId, upload_id: str) -> None:
        await self._uploads.discard(await self._session(user_id, upload_id))

    async def sweep(self) -> int:
        """Discard every expired session and its parts; return how many were discarded."""
        now = self._clock.now()
        discarded = 0
        for session in await self._uploads.sessions():
            if not session.is_expired(now):
                continue
            try:
                await self._uploads.discard(session)
            except Exception:
                logger.exception("could not discard the expired upload %s", session.upload_id)
            else:
                discarded += 1
        return discarded

    async def _session(self, user_id: UserId, upload_id: str) -> UploadSession:
        """The user's session, unless it is unknown or expired (`NotFound`)."""
        session = None
        if _UPLOAD_ID.fullmatch(upload_id):
            session = await self._uploads.load(user_id, upload_id)
        if session is None or session.is_expired(self._clock.now()):
            raise NotFound(f"Upload {upload_id!r} does not exist")
        return session

    async def _open_session(self, user_id: UserId, upload_id: str) -> UploadSession:
        session = await self._session(user_id, upload_id)
        if session.completed is not None:
            raise AlreadyExists(f"Upload {upload_id!r} is already complete")
        return session

    async def _progress(self, session: UploadSession) -> UploadProgress:
        if session.completed is not None:
            return UploadProgress(session, list(range(1, session.plan.part_count + 1)))
        stored = await self._uploads.stored_parts(session)
        return UploadProgress(session, session.plan.complete_parts(stored))


async def _exactly(chunks: AsyncIterable[bytes], length: int, number: int) -> AsyncIterator[bytes]:
    """Pass `chunks` on, raising `BadRequest` as soon as they are not `length` bytes in all."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > length:
            raise BadRequest(f"Part {number} must be {length} bytes, got more")
        yield chunk
    if received != length:
        raise BadRequest(f"Part {number} must be {length} bytes, got {received}")
