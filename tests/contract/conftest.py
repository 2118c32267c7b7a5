"""Backends the storage contract runs against.

To run the contract on another backend, add a factory to `STORAGE_BACKENDS`: an
async context manager that takes the pytest request (for other fixtures, via
`request.getfixturevalue`) and a fresh temporary folder, and yields a ready,
empty storage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from tests.contract.upload_backends import UPLOAD_BACKENDS, UploadWorld
from tests.fakes import InMemoryFileStorage
from tests.integration.s3_support import contract_s3_storage
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.ports.storage import FileStorage

StorageFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[FileStorage]]

# Small enough that the contract's files span several chunks, large enough to stay quick.
CHUNK_SIZE = 64 * 1024


@asynccontextmanager
async def memory_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[FileStorage]:
    yield InMemoryFileStorage(chunk_size=CHUNK_SIZE)


@asynccontextmanager
async def local_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[FileStorage]:
    yield await LocalFileStorage.create(tmp_path / "user_data", chunk_size=CHUNK_SIZE)


STORAGE_BACKENDS: dict[str, StorageFactory] = {
    "memory": memory_storage,
    "local": local_storage,
    "s3": contract_s3_storage,
}


@pytest.fixture(params=list(STORAGE_BACKENDS))
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStorage]:
    async with STORAGE_BACKENDS[request.param](request, tmp_path) as backend:
        yield backend


@pytest.fixture(params=list(UPLOAD_BACKENDS))
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UploadWorld]:
    """Upload sessions on each real storage."""
    async with UPLOAD_BACKENDS[request.param](request, tmp_path) as made:
        yield made
