"""The record of an upload session as both storages keep it: a small JSON document.

Sessions live beside users' trees in a folder no user id can name (ids never
start with a dot): `<root>/.upload-sessions/<user_id>/<upload_id>`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from userfacing_api.domain.errors import DomainError
from userfacing_api.domain.files import FileInfo, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.domain.uploads import PartPlan, UploadSession

SESSIONS_FOLDER = ".upload-sessions"
RECORD_VERSION = 1


class UnreadableRecord(ValueError):
    """A stored record that is not a session record of this version."""


def dump_record(session: UploadSession) -> bytes:
    completed = session.completed
    return json.dumps(
        {
            "version": RECORD_VERSION,
            "upload_id": session.upload_id,
            "user_id": session.user_id,
            "path": session.path,
            "size": session.plan.size,
            "part_size": session.plan.part_size,
            "part_count": session.plan.part_count,
            "created_at": session.created_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            "storage_ref": session.storage_ref,
            "completed": None
            if completed is None
            else {
                "size": completed.size,
                "modified": None if completed.modified is None else completed.modified.isoformat(),
                "etag": completed.etag,
            },
        }
    ).encode()


def load_record(raw: bytes) -> UploadSession:
    """The session of `raw`; `UnreadableRecord` for anything else."""
    try:
        record: dict[str, Any] = json.loads(raw)
        if record.get("version") != RECORD_VERSION:
            raise UnreadableRecord("unknown record version")
        completed = record["completed"]
        return UploadSession(
            upload_id=str(record["upload_id"]),
            user_id=UserId(str(record["user_id"])),
            path=UserPath(str(record["path"])),
            plan=PartPlan(
                size=int(record["size"]),
                part_size=int(record["part_size"]),
                part_count=int(record["part_count"]),
            ),
            created_at=datetime.fromisoformat(record["created_at"]),
            expires_at=datetime.fromisoformat(record["expires_at"]),
            storage_ref=str(record["storage_ref"]),
            completed=None
            if completed is None
            else FileInfo(
                path=str(record["path"]),
                type=FileType.FILE,
                size=completed["size"],
                modified=None
                if completed["modified"] is None
                else datetime.fromisoformat(completed["modified"]),
                etag=completed["etag"],
            ),
        )
    except (AttributeError, KeyError, TypeError, ValueError, DomainError) as err:
        raise UnreadableRecord(str(err)) from err
