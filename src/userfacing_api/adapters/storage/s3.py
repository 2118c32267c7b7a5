"""Users' files in an S3 bucket, readable and writable alongside the original service.

The key layout is described in `s3_layout`. Folders are zero-byte objects whose
key ends in `/`, but a folder also exists whenever any object lies below it:
buckets filled through presigned POST uploads have no folder objects at all.
Clients may move bytes directly with presigned requests; the worker side finds
files by their `s3://bucket/key` URI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from userfacing_api.adapters.storage.rules import (
    check_move,
    check_read,
    check_replace,
    check_write,
)
from userfacing_api.adapters.storage.s3_errors import error_code, s3_errors
from userfacing_api.adapters.storage.s3_layout import S3Layout
from userfacing_api.adapters.storage.s3_transfer import copy_large_object, upload_stream
from userfacing_api.domain.errors import AlreadyExists, NotFound
from userfacing_api.domain.files import FileInfo, FileRequest, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.storage import FileStorage, StorageUnavailable

MiB = 1024 * 1024
GiB = 1024 * MiB
PART_SIZE = 8 * MiB
READ_CHUNK_SIZE = 1 * MiB
COPY_LIMIT = 5 * GiB
"""The largest object `copy_object` copies; larger ones are copied in parts."""
COPY_PART_SIZE = 1 * GiB
DELETE_BATCH = 1000
"""The most keys one `delete_objects` call accepts."""
MULTIPART_MAX_AGE = timedelta(days=1)
"""An upload in parts started longer ago than this will never be completed."""


class S3FileStorage(FileStorage):
    """The storage port on one bucket, through an open aiobotocore S3 client."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str,
        *,
        part_size: int = PART_SIZE,
        read_chunk_size: int = READ_CHUNK_SIZE,
        copy_limit: int = COPY_LIMIT,
        copy_part_size: int = COPY_PART_SIZE,
    ) -> None:
        self._client = client
        self._layout = S3Layout(bucket=bucket, prefix=prefix.strip("/"))
        self._bucket = bucket
        self._part_size = part_size
        self._read_chunk_size = read_chunk_size
        self._copy_limit = copy_limit
        self._copy_part_size = copy_part_size

    async def ping(self) -> None:
        try:
            await self._client.head_bucket(Bucket=self._bucket)
        except Exception as err:
            raise StorageUnavailable("The file storage bucket cannot be reached") from err

    async def sweep_leftovers(self, now: datetime) -> int:
        """Abort the multipart uploads below the service's prefix started more than
        `MULTIPART_MAX_AGE` ago: a process killed mid-upload leaves them, and the
        bucket keeps (and bills) their parts forever."""
        prefix = f"{self._layout.prefix}/" if self._layout.prefix else ""
        cutoff = now - MULTIPART_MAX_AGE
        aborted = 0
        with s3_errors(prefix):
            paginator = self._client.get_paginator("list_multipart_uploads")
            async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < cutoff:
                        aborted += await self._abort(upload["Key"], upload["UploadId"])
        return aborted

    async def _abort(self, key: str, upload_id: str) -> int:
        """1 once the upload is aborted, 0 when it had ended meanwhile."""
        try:
            await self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id
            )
        except ClientError as err:
            if error_code(err) == "NoSuchUpload":
                return 0
            raise
        return 1

    def uri(self, user_id: UserId, path: UserPath) -> str:
        return self._layout.uri(user_id, path)

    async def presigned_download(
        self, user_id: UserId, path: UserPath, expires_in: int
    ) -> FileRequest | None:
        key = self._layout.key(user_id, path)
        with s3_errors(path):
            url = await self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
            )
        return FileRequest(method="get", url=url, headers={}, data={})

    async def presigned_upload(
        self, user_id: UserId, folder: UserPath, expires_in: int
    ) -> FileRequest | None:
        prefix = self._layout.folder_key(user_id, folder)
        with s3_errors(folder):
            post = await self._client.generate_presigned_post(
                Bucket=self._bucket,
                Key=prefix + "${filename}",
                Conditions=[["starts-with", "$key", prefix]],
                ExpiresIn=expires_in,
            )
        fields = {str(name): str(value) for name, value in post["fields"].items()}
        return FileRequest(method="post", url=post["url"], headers={}, data=fields)

    async def stat(self, user_id: UserId, path: UserPath) -> FileInfo | None:
        if path.is_root:
            return FileInfo(path=path, type=FileType.DIRECTORY)
        head, is_folder = await asyncio.gather(
            self._head(user_id, path), self._folder_exists(user_id, path)
        )
        if head is not None:
            return _file_info(path, head["ContentLength"], head["LastModified"], head["ETag"])
        if is_folder:
            return FileInfo(path=path, type=FileType.DIRECTORY)
        return None

    async def list(self, user_id: UserId, folder: UserPath, *, recursive: bool) -> list[FileInfo]:
        if not folder.is_root:
            info = await self.stat(user_id, folder)
            if info is None or not info.is_dir:
                raise NotFound(f"Folder {folder!r} does not exist")
        prefix = self._layout.folder_key(user_id, folder)
        entries: dict[str, FileInfo] = {}
        with s3_errors(folder):
            async for page in self._pages(prefix, recursive):
                for common in page.get("CommonPrefixes", []):
                    self._add_folder(entries, user_id, common["Prefix"])
                for item in page.get("Contents", []):
                    if item["Key"] == prefix:
                        continue
                    path = self._add_object(entries, user_id, item)
                    if recursive and path is not None:
                        _add_parents(entries, path, folder)
        return list(entries.values())

    async def make_folder(self, user_id: UserId, path: UserPath) -> None:
        needed = path.ancestors()
        heads = await asyncio.gather(*(self._head(user_id, folder) for folder in needed))
        if any(head is not None for head in heads):
            raise AlreadyExists(f"A file is in the way of {path!r}")
        with s3_errors(path):
            await asyncio.gather(
                *(
                    self._client.put_object(
                        Bucket=self._bucket, Key=self._layout.folder_key(user_id, folder), Body=b""
                    )
                    for folder in needed
                )
            )

    async def write(
        self, user_id: UserId, path: UserPath, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        check_write(path)
        await self.make_folder(user_id, path.parent)
        if await self._folder_exists(user_id, path):
            raise AlreadyExists(f"A folder already exists at {path!r}")
        key = self._layout.key(user_id, path)
        await upload_stream(self._client, self._bucket, key, chunks, self._part_size, path)
        head = await self._head(user_id, path)
        if head is None:
            raise StorageUnavailable(f"{path!r} was not stored")
        return _file_info(path, head["ContentLength"], head["LastModified"], head["ETag"])

    async def read(
        self, user_id: UserId, path: UserPath, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_read(path, start, end)
        key = self._layout.key(user_id, path)
        if end == start:
            if await self._head(user_id, path) is None:
                raise NotFound(f"File {path!r} does not exist")
            return
        request = {"Bucket": self._bucket, "Key": key}
        if start or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with s3_errors(path):
            response = await self._get_range(request)
        if response is None:
            return
        body = response["Body"]
        try:
            while True:
                with s3_errors(path):
                    chunk = await body.read(self._read_chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def move(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        check_move(source, target)
        info = await self.stat(user_id, source)
        if info is None:
            raise NotFound(f"{source!r} does not exist")
        existing = await self.stat(user_id, target)
        check_replace(target, info.is_dir, None if existing is None else existing.type)
        await self.make_folder(user_id, target.parent)
        if info.is_dir:
            await self._move_folder(user_id, source, target)
        else:
            assert info.size is not None
            await self._copy(
                self._layout.key(user_id, source), self._layout.key(user_id, target), info.size
            )
        await self.delete(user_id, source)

    async def delete(self, user_id: UserId, path: UserPath) -> None:
        if not path.is_root:
            with s3_errors(path):
                await self._client.delete_object(
                    Bucket=self._bucket, Key=self._layout.key(user_id, path)
                )
        with s3_errors(path):
            async for page in self._pages(self._layout.folder_key(user_id, path), True):
                keys = [item["Key"] for item in page.get("Contents", [])]
                for start in range(0, len(keys), DELETE_BATCH):
                    await self._delete_keys(keys[start : start + DELETE_BATCH])

    async def _move_folder(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        """Copy everything below `source` (its folder object included) below `target`."""
        source_prefix = self._layout.folder_key(user_id, source)
        target_prefix = self._layout.folder_key(user_id, target)
        with s3_errors(source):
            async for page in self._pages(source_prefix, True):
                for item in page.get("Contents", []):
                    suffix = item["Key"].removeprefix(source_prefix)
                    await self._copy(item["Key"], target_prefix + suffix, item["Size"])
        await self.make_folder(user_id, target)

    async def _copy(self, source: str, target: str, size: int) -> None:
        if size > self._copy_limit:
            await copy_large_object(
                self._client, self._bucket, source, target, size, self._copy_part_size, source
            )
            return
        with s3_errors(source):
            await self._client.copy_object(
                Bucket=self._bucket, Key=target, CopySource={"Bucket": self._bucket, "Key": source}
            )

    async def _delete_keys(self, keys: Sequence[str]) -> None:
        answer = await self._client.delete_objects(
            Bucket=self._bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        if answer.get("Errors"):
            raise StorageUnavailable(f"The file storage kept {len(answer['Errors'])} objects")

    async def _get_range(self, request: dict[str, str]) -> dict[str, Any] | None:
        """The object's bytes in the requested range; None when it starts past the end."""
        try:
            response: dict[str, Any] = await self._client.get_object(**request)
        except ClientError as err:
            if error_code(err) == "InvalidRange":
                return None
            raise
        return response

    async def _head(self, user_id: UserId, path: UserPath) -> dict[str, Any] | None:
        """The metadata of the file at `path`, or None when there is none."""
        try:
            with s3_errors(path):
                head: dict[str, Any] = await self._client.head_object(
                    Bucket=self._bucket, Key=self._layout.key(user_id, path)
                )
        except NotFound:
            return None
        return head

    async def _folder_exists(self, user_id: UserId, path: UserPath) -> bool:
        """True when a folder object or any object lies below `path/`."""
        with s3_errors(path):
            answer = await self._client.list_objects_v2(
                Bucket=self._bucket, Prefix=self._layout.folder_key(user_id, path), MaxKeys=1
            )
        return bool(answer.get("KeyCount", 0))

    def _pages(self, prefix: str, recursive: bool) -> AsyncIterable[dict[str, Any]]:
        """Every page of the listing below `prefix`; one level deep unless `recursive`."""
        paginator = self._client.get_paginator("list_objects_v2")
        options = {"Bucket": self._bucket, "Prefix": prefix}
        if not recursive:
            options["Delimiter"] = "/"
        pages: AsyncIterable[dict[str, Any]] = paginator.paginate(**options)
        return pages

    def _add_folder(self, entries: dict[str, FileInfo], user_id: UserId, key: str) -> None:
        path = self._layout.path_of(user_id, key)
        if path is not None:
            entries[path] = FileInfo(path=path, type=FileType.DIRECTORY)

    def _add_object(
        self, entries: dict[str, FileInfo], user_id: UserId, item: dict[str, Any]
    ) -> str | None:
        key: str = item["Key"]
        path = self._layout.path_of(user_id, key)
        if path is None:
            return None
        if key.endswith("/"):
            entries[path] = FileInfo(path=path, type=FileType.DIRECTORY)
        else:
            entries[path] = _file_info(path, item["Size"], item["LastModified"], item["ETag"])
        return path


@asynccontextmanager
async def open_s3_storage(
    bucket: str, region: str | None, prefix: str
) -> AsyncIterator[S3FileStorage]:
    """An S3 storage on `bucket` whose client lives as long as the context."""
    async with open_s3_client(region) as client:
        yield S3FileStorage(client, bucket, prefix)


@asynccontextmanager
async def open_s3_client(region: str | None) -> AsyncIterator[Any]:
    """An S3 client for the storage adapters, open as long as the context.

    Credentials and endpoint come from the standard AWS configuration
    (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` point it at a stand-in server).
    Presigned requests are signed with SigV4 for the bucket's regional endpoint,
    which buckets created in recent years require.
    """
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
        retries={"mode": "standard"},
    )
    session = aioboto3.Session()
    async with session.client("s3", region_name=region, config=config) as client:
        yield client


def _file_info(path: str, size: int, modified: datetime, etag: str) -> FileInfo:
    return FileInfo(path=path, type=FileType.FILE, size=size, modified=modified, etag=etag)


def _add_parents(entries: dict[str, FileInfo], path: str, folder: str) -> None:
    """Show the folders between `folder` and `path`, which may exist only as key prefixes."""
    current = path.rpartition("/")[0]
    while current != folder and current not in entries:
        entries[current] = FileInfo(path=current, type=FileType.DIRECTORY)
        current = current.rpartition("/")[0]
