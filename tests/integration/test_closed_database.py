"""A database that no longer answers makes every store it serves unavailable, on both engines."""

from __future__ import annotations

import pytest

from tests.databases import database_url as database_url
from tests.databases import empty_database
from userfacing_api.adapters.db.database import open_database
from userfacing_api.ports.database import DatabaseUnavailable


async def test_every_store_of_a_closed_database_is_unavailable(database_url: str) -> None:
    async with open_database(await empty_database(database_url)) as database:
        pass

    with pytest.raises(DatabaseUnavailable):
        await database.jobs.ping()
    with pytest.raises(DatabaseUnavailable):
        async with database.jobs.transaction() as transaction:
            await transaction.jobs.get(1)
    with pytest.raises(DatabaseUnavailable):
        await database.users.find("carol@example.org")
    with pytest.raises(DatabaseUnavailable):
        await database.signing_keys.find("kid")
