"""Fixtures of the HTTP tests of jobs; a test module imports the ones it uses by name.

`environ` puts the service on each database engine (the module imports
`database_url` too); `alice` and `bob` are callers whose input folders hold
what `job_body()` reads.
"""

from __future__ import annotations

import pytest

from tests.conftest import TokenFactory
from tests.databases import empty_database
from tests.fakes import RecordingWorkerQueue
from tests.http.jobs_helpers import UserFiles, user_id_of
from userfacing_api.settings import Settings


@pytest.fixture
async def environ(environ: dict[str, str], database_url: str) -> dict[str, str]:
    """The default environment, on each database engine."""
    return {**environ, "DATABASE_URL": await empty_database(database_url)}


@pytest.fixture
def queue() -> RecordingWorkerQueue:
    return RecordingWorkerQueue()


@pytest.fixture
def files(settings: Settings) -> UserFiles:
    return UserFiles(settings)


@pytest.fixture
async def alice(user_headers: TokenFactory, files: UserFiles) -> dict[str, str]:
    return await _user_with_inputs(user_headers, files, "alice@example.org")


@pytest.fixture
async def bob(user_headers: TokenFactory, files: UserFiles) -> dict[str, str]:
    return await _user_with_inputs(user_headers, files, "bob@example.org")


async def _user_with_inputs(
    user_headers: TokenFactory, files: UserFiles, email: str
) -> dict[str, str]:
    headers = await user_headers(email)
    await files.put_inputs(user_id_of(headers))
    return headers
