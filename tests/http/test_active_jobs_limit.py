"""USER_ACTIVE_JOBS_LIMIT: a user with that many unfinished jobs gets 429, on each engine."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.databases import database_url as database_url
from tests.databases import empty_database
from tests.http.jobs_fixtures import alice as alice
from tests.http.jobs_fixtures import files as files
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]
LIMIT = 3


@pytest.fixture
async def environ(environ: dict[str, str], database_url: str) -> dict[str, str]:
    return {
        **environ,
        "DATABASE_URL": await empty_database(database_url),
        "USER_ACTIVE_JOBS_LIMIT": str(LIMIT),
    }


async def submit(client: Client, headers: dict[str, str], name: str) -> int:
    response = await client.post("/jobs", json=job_body(name), headers=headers)
    return response.status


async def test_past_the_limit_a_new_job_is_429_naming_it_until_one_ends(
    client: Client, alice: dict[str, str], user_headers: TokenFactory, settings: Settings
) -> None:
    created = [
        await client.post("/jobs", json=job_body(f"run{n}"), headers=alice) for n in range(3)
    ]
    refused = await client.post("/jobs", json=job_body("run3"), headers=alice)
    first = (await created[0].json())["id"]
    await client.post(f"/jobs/{first}/cancel", headers=alice)
    after_cancel = await submit(client, alice, "run3")
    bob = await user_headers("bob@example.org")
    await UserFiles(settings).put_inputs(user_id_of(bob))

    assert [response.status for response in created] == [201, 201, 201]
    assert refused.status == 429
    assert f"the limit is {LIMIT}" in (await refused.json())["detail"]
    assert after_cancel == 201
    assert await submit(client, bob, "run0") == 201


async def test_parallel_submissions_never_exceed_the_limit(
    client: Client, alice: dict[str, str]
) -> None:
    statuses = await asyncio.gather(*(submit(client, alice, f"run{n}") for n in range(12)))

    listed = await (await client.get("/jobs", headers=alice)).json()
    assert sorted(statuses) == [201] * LIMIT + [429] * (12 - LIMIT)
    assert len(listed) == LIMIT
