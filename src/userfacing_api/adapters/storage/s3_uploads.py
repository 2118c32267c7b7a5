"""Upload sessions on S3: one multipart upload per session, parts sent straight to S3.

The session's record is a small object `<prefix>/.upload-sessions/<user_id>/<upload_id>.json`;
the parts are those of the multipart upload on the file's own key, so what S3
reports (`ListParts`) is what a client resumes from. Each part URL is a
presigned `UploadPart` that signs the part's `Content-Length`, so S3 refuses a
part of any other length; a part stored with a wrong length anyway is left out
by the service and named when completing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Any

from botocore.exceptions import ClientError

from userfacing_api.adapters.storage.s3_errors import error_code, s3_errors
from userfacing_api.adapters.storage.s3_layout import S3Layout
from userfacing_api.adapters.storage.upload_records import (
    SESSIONS_FOLDER,
    UnreadableRecord,
    dump_record,
    load_record,
)
from userfacing_api.domain.errors import Incomplete, NotAllowed, NotFound
from userfacing_api.domain.files import FileInfo, FileRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath, join
from userfacing_api.domain.uploads import UploadSession, number_ranges
from userfacing_api.ports.storage import FileStorage, StorageUnavailable
from userfacing_api.ports.uploads import UploadStorage

NO_SUCH_UPLOAD = "NoSuchUpload"
RECORD_SUFFIX = ".json"
PARALLEL_RECORD_READS = 16


class S3UploadStorage(UploadStorage):
    def __init__(self, client: Any, bucket: str, prefix: str, files: FileStorage) -> None:
        self._client = client
        self._bucket = bucket
        self._layout = S3Layout(bucket=bucket, prefix=prefix.strip("/"))
        self._records = join(prefix.strip("/"), SESSIONS_FOLDER) + "/"
        self._files = files

    async def begin(self, user_id: UserId, path: UserPath) -> str:
        with s3_errors(path):
            created = await self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._layout.key(user_id, path)
            )
        return str(created["UploadId"])

    async def save(self, session: UploadSession) -> None:
        with s3_errors(session.path):
            await self._client.put_object(
                Bucket=self._bucket,
                Key=self._record_key(session.user_id, session.upload_id),
                Body=dump_record(session),
                ContentType="application/json",
            )

    async def load(self, user_id: UserId, upload_id: str) -> UploadSession | None:
        return await self._read_record(self._record_key(user_id, upload_id), user_id)

    async def sessions(self, user_id: UserId | None = None) -> list[UploadSession]:
        prefix = self._records if user_id is None else f"{self._records}{user_id}/"
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with s3_errors(SESSIONS_FOLDER):
            async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", [])]
        limit = asyncio.Semaphore(PARALLEL_RECORD_READS)

        async def read(key: str) -> UploadSession | None:
            async with limit:
                return await self._read_record(key, user_id)

        found = await asyncio.gather(*(read(key) for key in keys if key.endswith(RECORD_SUFFIX)))
        return [session for session in found if session is not None]

    async def part_request(
        self, session: UploadSession, number: int, expires_in: int
    ) -> FileRequest | None:
        with s3_errors(session.path):
            url = await self._client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self._bucket,
                    "Key": self._layout.key(session.user_id, session.path),
                    "UploadId": session.storage_ref,
                    "PartNumber": number,
                    "ContentLength": session.plan.length_of(number),
                },
                ExpiresIn=expires_in,
            )
        return FileRequest(method="put", url=url, headers={}, data={})

    async def write_part(
        self, session: UploadSession, number: int, chunks: AsyncIterable[bytes]
    ) -> None:
        raise NotAllowed(
            "On this storage parts go straight to S3, to the URL the service hands out"
        )

    async def stored_parts(self, session: UploadSession) -> dict[int, int]:
        return {number: size for number, (size, _) in (await self._parts(session)).items()}

    async def assemble(self, session: UploadSession) -> FileInfo:
        stored = await self._parts(session)
        numbers = range(1, session.plan.part_count + 1)
        missing = [number for number in numbers if number not in stored]
        if missing:  # the session was discarded meanwhile
            raise Incomplete(f"Parts missing: {number_ranges(missing)}")
        parts = [{"PartNumber": number, "ETag": stored[number][1]} for number in numbers]
        with s3_errors(session.path):
            await self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._layout.key(session.user_id, session.path),
                UploadId=session.storage_ref,
                MultipartUpload={"Parts": parts},
            )
        info = await self._files.stat(session.user_id, session.path)
        if info is None:
            raise StorageUnavailable(f"{session.path!r} was not stored")
        return info

    async def discard(self, session: UploadSession) -> None:
        with s3_errors(session.path):
            if session.completed is None:
                try:
                    await self._client.abort_multipart_upload(
                        Bucket=self._bucket,
                        Key=self._layout.key(session.user_id, session.path),
                        UploadId=session.storage_ref,
                    )
                except ClientError as err:
                    if error_code(err) != NO_SUCH_UPLOAD:
                        raise
            await self._client.delete_object(
                Bucket=self._bucket, Key=self._record_key(session.user_id, session.upload_id)
            )

    async def _parts(self, session: UploadSession) -> dict[int, tuple[int, str]]:
        """Part number → (length, ETag) as S3 reports them; empty once the upload is gone."""
        paginator = self._client.get_paginator("list_parts")
        found: dict[int, tuple[int, str]] = {}
        with s3_errors(session.path):
            try:
                async for page in paginator.paginate(
                    Bucket=self._bucket,
                    Key=self._layout.key(session.user_id, session.path),
                    UploadId=session.storage_ref,
                ):
                    for part in page.get("Parts", []):
                        found[int(part["PartNumber"])] = (int(part["Size"]), str(part["ETag"]))
            except ClientError as err:
                if error_code(err) == NO_SUCH_UPLOAD:
                    return {}
                raise
        return found

    async def _read_record(self, key: str, user_id: UserId | None) -> UploadSession | None:
        try:
            with s3_errors(key):
                answer = await self._client.get_object(Bucket=self._bucket, Key=key)
                body = answer["Body"]
                try:
                    raw = await body.read()
                finally:
                    body.close()
        except NotFound:
            return None
        try:
            session = load_record(raw)
        except UnreadableRecord:
            return None
        if user_id is not None and session.user_id != user_id:
            return None
        return session

    def _record_key(self, user_id: UserId, upload_id: str) -> str:
        return f"{self._records}{user_id}/{upload_id}{RECORD_SUFFIX}"
