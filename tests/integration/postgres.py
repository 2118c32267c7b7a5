"""A throw-away PostgreSQL database on the local server, for one test session.

The server is expected on 127.0.0.1:5432 (user `postgres`, trust auth), or at
`TEST_POSTGRES_ADMIN_URL`. Without one the tests that need it are skipped,
except under CI (`CI` set), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped when the session ends."""
    admin_url = os.environ.get("TEST_POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
    name = f"userfacing_test_{uuid.uuid4().hex[:12]}"
    admin = await _connect_or_skip(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = admin_url.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _connect_or_skip(admin_url: str) -> asyncpg.Connection:
    try:
        connection: asyncpg.Connection = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as err:
        where = urlsplit(admin_url)
        reason = f"no PostgreSQL server answers at {where.hostname}:{where.port}: {err}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return connection
