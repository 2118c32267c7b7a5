"""A database that stops answering: PostgreSQL behind a stalled proxy, SQLite locked by
another process. Requests that need it fail fast with 503, the others keep working,
and the service recovers by itself once the database answers again."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.databases import empty_database
from tests.integration.stalling_proxy import StallingProxy
from tests.waiting import polled
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import load_settings

Client = TestClient[web.Request, web.Application]

# Far beyond the deadlines under test: only there so that a hang fails the test.
GUARD_SECONDS = 30.0
PASSWORD = "Correct-horse-9"

LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


async def status_of(client: Client, path: str, headers: dict[str, str] | None = None) -> int:
    async with asyncio.timeout(GUARD_SECONDS):
        response = await client.get(path, headers=headers)
        await response.read()
        return response.status


async def signed_in(client: Client) -> dict[str, str]:
    form = {"username": "alice@example.org", "password": PASSWORD}
    assert (await client.post("/user", data=form)).status == 201
    issued = await client.post("/token", data=form)
    return {"Authorization": f"Bearer {(await issued.json())['id_token']}"}


@pytest.mark.postgres
async def test_a_hung_postgresql_gives_503_the_rest_keeps_working_and_it_recovers(
    aiohttp_client: ClientFactory,
    environ: dict[str, str],
    postgres_url: str,
    postgres_proxy: StallingProxy,
) -> None:
    url = postgres_proxy.proxied(await empty_database(postgres_url))
    settings = load_settings({**environ, "DATABASE_URL": url})
    client = await aiohttp_client(create_app(settings))
    alice = await signed_in(client)
    assert await status_of(client, "/jobs", alice) == 200

    postgres_proxy.stall()
    jobs = await status_of(client, "/jobs", alice)
    ready = await status_of(client, "/ready")
    health = await status_of(client, "/health")
    files = await status_of(client, "/files/", alice)
    postgres_proxy.resume()

    assert (jobs, ready, health, files) == (503, 503, 200, 200)
    await polled(lambda: status_of(client, "/jobs", alice), lambda status: status == 200)
    assert await status_of(client, "/ready") == 200


async def test_an_sqlite_file_locked_by_another_process_gives_503_and_recovers(
    aiohttp_client: ClientFactory, environ: dict[str, str]
) -> None:
    settings = load_settings(environ)
    client = await aiohttp_client(create_app(settings))
    alice = await signed_in(client)
    assert await status_of(client, "/jobs", alice) == 200
    database = Path(settings.database.url.removeprefix("sqlite:///"))

    locker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCKER,
        str(database),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert locker.stdin is not None
    assert locker.stdout is not None
    try:
        assert await locker.stdout.readline() == b"locked\n"
        jobs = await status_of(client, "/jobs", alice)
        ready = await status_of(client, "/ready")
        health = await status_of(client, "/health")
        files = await status_of(client, "/files/", alice)
    finally:
        locker.stdin.write(b"done\n")
        await locker.stdin.drain()
        await locker.wait()

    # Reads need no write lock in WAL mode: the jobs are still listed meanwhile.
    assert (jobs, ready, health, files) == (200, 503, 200, 200)
    await polled(lambda: status_of(client, "/ready"), lambda status: status == 200)
