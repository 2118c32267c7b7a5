"""Where upload sessions keep their record and their parts.

The record and the parts live in the storage itself (the local disk, or S3's
multipart upload and a small record object), so a session survives a restart
of the service and a client that lost its own state can resume from what the
storage reports. Users and paths arrive as `UserId` and `UserPath`; upload ids
are checked by the use cases before they get here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable

from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.domain.uploads import UploadSession


class UploadStorage(ABC):
    @abstractmethod
    async def begin(self, user_id: UserId, path: UserPath) -> str:
        """Prepare to receive parts for `path`; return the storage's reference to them."""

    @abstractmethod
    async def save(self, session: UploadSession) -> None:
        """Store the session's record (atomically replacing an older one)."""

    @abstractmethod
    async def load(self, user_id: UserId, upload_id: str) -> UploadSession | None:
        """The user's session, or None when the user has no such session."""

    @abstractmethod
    async def sessions(self, user_id: UserId | None = None) -> list[UploadSession]:
        """Every recorded session of the user (of all users when None), any order."""

    @abstractmethod
    async def part_request(
        self, session: UploadSession, number: int, expires_in: int
    ) -> FileRequest | None:
        """A direct PUT of part `number` that refuses any other length, or None.

        None means this storage has no direct access: the part goes through the
        service to `write_part`.
        """

    @abstractmethod
    async def write_part(
        self, session: UploadSession, number: int, chunks: AsyncIterable[bytes]
    ) -> None:
        """Store part `number`, replacing an older copy; counted once every chunk is stored.

        Once this returns the part is on the disk. When `chunks` raises, the part
        counts as not stored (an older copy may be partly overwritten already), so a
        part half written is never reported as stored. `Conflict` while the same part
        is being stored by another request.
        """

    @abstractmethod
    async def stored_parts(self, session: UploadSession) -> dict[int, int]:
        """The parts stored so far: part number → length in bytes."""

    @abstractmethod
    async def assemble(self, session: UploadSession) -> FileInfo:
        """Join every part, in order, into the file at the session's path.

        The file appears at once (replacing an older one) and the parts are
        gone afterwards; the caller has checked that every part is stored
        (`Incomplete` when one went missing or is being stored again meanwhile).
        """

    @abstractmethod
    async def discard(self, session: UploadSession) -> None:
        """Remove the parts and the record; already gone is fine."""
