"""On PostgreSQL, a stream still gets the events recorded while its instance's listener
was cut off from the database: the history is the source of truth."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.databases import empty_database
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from tests.http.sse import EVENT_STREAM, next_event
from tests.waiting import polled
from userfacing_api.settings import Settings

pytestmark = pytest.mark.postgres

Client = TestClient[web.Request, web.Application]
LISTENERS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
)


@pytest.fixture
async def environ(environ: dict[str, str], postgres_url: str) -> dict[str, str]:
    return {**environ, "DATABASE_URL": await empty_database(postgres_url)}


async def listeners(url: str) -> list[Any]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(LISTENERS))
    finally:
        await connection.close()


async def test_events_recorded_while_the_listener_reconnects_still_arrive(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    alice = await user_headers("alice@example.org")
    await UserFiles(settings).put_inputs(user_id_of(alice))
    created = await client.post("/jobs", json=job_body(), headers=alice)
    job_id = (await created.json())["id"]
    url = settings.database.url
    [listener] = await polled(lambda: listeners(url), lambda found: len(found) == 1)

    async with client.get(f"/jobs/{job_id}/events", headers={**alice, **EVENT_STREAM}) as stream:
        assert (await next_event(stream)).data["status"] == "queued"
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SELECT pg_terminate_backend($1)", listener["pid"])
        finally:
            await connection.close()
        reported = await client.put(
            "/_job_status",
            json={"job_id": job_id, "status": "running", "runtime_details": None},
            headers={"x-api-key": "internal-test-key"},
        )
        running = await next_event(stream)

    assert reported.status == 200
    assert running.data["status"] == "running"
    [again] = await polled(
        lambda: listeners(url),
        lambda found: len(found) == 1 and found[0]["pid"] != listener["pid"],
    )
    assert again["pid"] != listener["pid"]
