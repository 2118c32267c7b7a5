"""Upload session backends the upload contract runs against: the fake, local disk, moto S3.

Each yields an `UploadWorld`: the use cases over a real storage, with a clock the
test moves, and a way to build the service again over the same storage (what a
restart of the service does).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.fakes import InMemoryFileStorage, InMemoryUploadStorage
from tests.fixed_clock import FixedClock
from tests.integration.s3_support import BUCKET_REGION, USER_DATA_PREFIX, create_bucket
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.local_uploads import LocalUploadStorage
from userfacing_api.adapters.storage.s3 import S3FileStorage, open_s3_client
from userfacing_api.adapters.storage.s3_uploads import S3UploadStorage
from userfacing_api.domain.errors import BadRequest
from userfacing_api.domain.identity import UserId
from userfacing_api.ports.storage import FileStorage
from userfacing_api.ports.uploads import UploadStorage
from userfacing_api.service_layer.files import FileService
from userfacing_api.service_layer.uploads import UploadService

TTL = timedelta(hours=24)
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class UploadWorld:
    files: FileStorage
    uploads: UploadStorage
    clock: FixedClock
    max_size: int | None = None

    def service(self) -> UploadService:
        """The use cases as a freshly started service builds them (nothing kept in memory)."""
        return UploadService(
            self.uploads, FileService(self.files), self.clock, ttl=TTL, max_size=self.max_size
        )

    async def send_part(self, user_id: UserId, upload_id: str, number: int, content: bytes) -> None:
        """Send a part as a client does: to the request the service hands out.

        A refusal (by the service or by the storage) raises `BadRequest`.
        """
        service = self.service()
        _, direct = await service.part_request(user_id, upload_id, number)
        if direct is None:
            await service.write_part(user_id, upload_id, number, _chunks(content), len(content))
            return
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                direct.method, direct.url, headers=direct.headers, data=io.BytesIO(content)
            ) as sent,
        ):
            if sent.status != 200:
                raise BadRequest(f"the storage refused the part: {sent.status}")


async def _chunks(content: bytes) -> AsyncIterator[bytes]:
    step = 1024 * 1024
    for start in range(0, len(content), step):
        yield content[start : start + step]


WorldFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[UploadWorld]]


@asynccontextmanager
async def memory_world(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[UploadWorld]:
    files = InMemoryFileStorage()
    yield UploadWorld(files, InMemoryUploadStorage(files), FixedClock(START))


@asynccontextmanager
async def local_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UploadWorld]:
    root = tmp_path / "user_data"
    files = await LocalFileStorage.create(root)
    yield UploadWorld(files, await LocalUploadStorage.create(files, root), FixedClock(START))


@asynccontextmanager
async def s3_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UploadWorld]:
    request.getfixturevalue("moto_endpoint")
    async with open_s3_client(BUCKET_REGION) as client:
        bucket = await create_bucket(client)
        files = S3FileStorage(client, bucket, USER_DATA_PREFIX)
        uploads = S3UploadStorage(client, bucket, USER_DATA_PREFIX, files)
        yield UploadWorld(files, uploads, FixedClock(START))


UPLOAD_BACKENDS: dict[str, WorldFactory] = {
    "memory": memory_world,
    "local": local_world,
    "s3": s3_world,
}
