"""Readiness: every part must answer, in time."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes import InMemoryFileStorage, InMemoryJobStore
from userfacing_api.domain.errors import Unavailable
from userfacing_api.runtime.readiness import ReadinessService


@pytest.fixture
def store() -> InMemoryJobStore:
    return InMemoryJobStore()


@pytest.fixture
def storage() -> InMemoryFileStorage:
    return InMemoryFileStorage()


@pytest.fixture
def readiness(store: InMemoryJobStore, storage: InMemoryFileStorage) -> ReadinessService:
    return ReadinessService({"database": store.ping, "file storage": storage.ping})


async def test_the_service_is_ready_when_every_part_answers(readiness: ReadinessService) -> None:
    await readiness.check()


async def test_a_silent_database_makes_it_unavailable(
    readiness: ReadinessService, store: InMemoryJobStore
) -> None:
    store.available = False
    with pytest.raises(Unavailable, match="The database is not available"):
        await readiness.check()


async def test_a_silent_storage_makes_it_unavailable(
    readiness: ReadinessService, storage: InMemoryFileStorage
) -> None:
    storage.available = False
    with pytest.raises(Unavailable, match="The file storage is not available"):
        await readiness.check()


async def test_a_part_that_hangs_counts_as_not_answering() -> None:
    async def hang() -> None:
        await asyncio.Event().wait()

    readiness = ReadinessService({"database": hang}, timeout_seconds=0.01)
    with pytest.raises(Unavailable, match="database"):
        await readiness.check()
