"""Running a suite on each database engine: SQLite in the test's folder, or PostgreSQL.

A module takes the `database_url` fixture (import it under its own name) and
puts `await empty_database(database_url)` into its environment. The PostgreSQL
database lives for the whole session, so it is emptied of users and jobs before
each test; tests run one at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from userfacing_api.adapters.db.database import open_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of the engine under test.

    Resolved in a plain fixture: `postgres_url` is asynchronous and cannot be set
    up from inside a running event loop.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def empty_database(url: str) -> str:
    """`url`, its schema migrated and holding no users, jobs or pending deliveries."""
    async with open_database(url) as database:
        for statement in ("DELETE FROM job_deliveries", "DELETE FROM jobs", "DELETE FROM users"):
            await database.session.execute(statement)
    return url
