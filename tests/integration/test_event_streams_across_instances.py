"""Two service processes on one PostgreSQL database: an event recorded through one
reaches the streams served by the other (LISTEN/NOTIFY), over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.databases import empty_database
from tests.free_port import free_port
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from tests.http.sse import EVENT_STREAM, ended, next_event
from tests.integration.test_cli import serving, wait_until_healthy
from userfacing_api.settings import load_settings

pytestmark = pytest.mark.postgres

KEY = "internal-test-key"
PASSWORD = "Correct-horse-9"


@pytest.fixture
async def instances(
    postgres_url: str, tmp_path: Path, reference_catalogue: Path
) -> AsyncIterator[tuple[str, str, dict[str, str]]]:
    """The base URLs of two instances sharing the database and the users' files."""
    environ = {
        "AUTH": "1",
        "DATABASE_URL": await empty_database(postgres_url),
        "USER_DATA_ROOT_PATH": str(tmp_path / "user_data"),
        "APPLICATION_CONFIG_FILE": str(reference_catalogue),
        "INTERNAL_API_KEY_SECRET": KEY,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        urls = []
        for _ in range(2):
            port = free_port()
            process = await stack.enter_async_context(
                serving({**environ, "PORT": str(port)}, workdir)
            )
            url = f"http://127.0.0.1:{port}"
            await wait_until_healthy(session, f"{url}/health", process)
            urls.append(url)
        yield urls[0], urls[1], environ


async def sign_in(session: aiohttp.ClientSession, url: str, email: str) -> dict[str, str]:
    form = {"username": email, "password": PASSWORD}
    async with session.post(f"{url}/user", data=form) as created:
        assert created.status == 201, await created.text()
    async with session.post(f"{url}/token", data=form) as issued:
        token = (await issued.json())["id_token"]
    return {"Authorization": f"Bearer {token}"}


async def start(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], name: str
) -> int:
    async with session.post(f"{url}/jobs", json=job_body(name), headers=headers) as response:
        assert response.status == 201, await response.text()
        job_id: int = (await response.json())["id"]
        return job_id


async def report(session: aiohttp.ClientSession, url: str, job_id: int, status: str) -> None:
    body: dict[str, Any] = {"job_id": job_id, "status": status, "runtime_details": None}
    async with session.put(f"{url}/_job_status", json=body, headers={"x-api-key": KEY}) as answer:
        assert answer.status == 200, await answer.text()


async def test_an_event_recorded_by_one_instance_reaches_a_stream_of_the_other(
    instances: tuple[str, str, dict[str, str]],
) -> None:
    first, second, environ = instances
    files = UserFiles(load_settings(environ))
    async with aiohttp.ClientSession() as session:
        alice = await sign_in(session, first, "alice@example.org")
        bob = await sign_in(session, second, "bob@example.org")
        for headers in (alice, bob):
            await files.put_inputs(user_id_of(headers))
        job_id = await start(session, first, alice, "run1")

        async with (
            session.get(
                f"{first}/jobs/{job_id}/events", headers={**alice, **EVENT_STREAM}
            ) as job_stream,
            session.get(f"{second}/jobs/events", headers={**alice, **EVENT_STREAM}) as all_jobs,
        ):
            assert (await next_event(job_stream)).data["status"] == "queued"
            assert (await next_event(all_jobs)).data["job_id"] == job_id

            await start(session, second, bob, "bobs")
            await report(session, second, job_id, "running")
            running = await next_event(job_stream)
            other = await start(session, first, alice, "run2")
            seen_by_second = [await next_event(all_jobs), await next_event(all_jobs)]
            await report(session, second, job_id, "finished")
            finished = await next_event(job_stream)

            assert await ended(job_stream)

    assert running.data["status"] == "running"
    assert [(message.data["job_id"], message.data["status"]) for message in seen_by_second] == [
        (job_id, "running"),
        (other, "queued"),
    ]
    assert finished.data["status"] == "finished"
