"""The one SQLite connection the adapters share: a statement never joins another's transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.job_world import ALICE, train_spec
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.db.stores import Database
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import checked_spec
from userfacing_api.ports.jobs import NewJob
from userfacing_api.ports.local_identity import StoredUser

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(f"sqlite:///{tmp_path / 'service.db'}") as opened:
        yield opened


def carol() -> StoredUser:
    return StoredUser(
        user_id="carol-id",
        username="carol@example.org",
        email="carol@example.org",
        groups=("users",),
        password_hash="not-a-real-hash",
        created_at=NOW,
    )


async def test_a_user_registered_while_a_job_transaction_fails_is_kept(
    database: Database,
) -> None:
    jobs = database.jobs
    users = database.users
    started: list[tuple[int, asyncio.Task[None]]] = []

    async def register_during_a_failing_job_transaction() -> None:
        async with jobs.transaction() as transaction:
            job = await transaction.jobs.add(
                NewJob(UserId(ALICE.user_id), ALICE.email, checked_spec(train_spec()), NOW)
            )
            started.append((job.id, asyncio.create_task(users.add(carol()))))
            # One turn of the loop lets the registration send its statement, if it may;
            # the connection runs statements in order, so it has run by the next answer.
            await asyncio.sleep(0)
            await transaction.jobs.get(job.id)
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError, match="abandon"):
        await register_during_a_failing_job_transaction()
    job_id, registration = started[0]
    await registration

    assert await users.find("carol@example.org") == carol()
    async with jobs.transaction() as transaction:
        assert await transaction.jobs.get(job_id) is None
