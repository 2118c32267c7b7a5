"""The service as configured against the worker-facing API stand-in, and what its tests
do with jobs and the delivery outbox.

A test module imports the fixtures it uses by name (with `database_url` and
`alice` from their own modules); parametrising `extra_environ` adds variables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.databases import empty_database
from tests.http.jobs_helpers import job_body
from tests.integration.fakes_http import FakeWorkerApi
from tests.waiting import polled
from userfacing_api.adapters.db.database import open_database
from userfacing_api.ports.jobs import JobStore

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def extra_environ() -> dict[str, str]:
    """Variables a test adds to its module's environment (parametrise it to change them)."""
    return {}


@pytest.fixture
async def environ(
    environ: dict[str, str],
    database_url: str,
    fake_worker_api: FakeWorkerApi,
    extra_environ: dict[str, str],
) -> dict[str, str]:
    return {
        **environ,
        "DATABASE_URL": await empty_database(database_url),
        "WORKERFACING_API_URL": fake_worker_api.url,
        "INTERNAL_API_KEY_SECRET": fake_worker_api.api_key,
        "JOB_DELIVERY_RETRY_CAP": "0.2",
        "JOB_DELIVERY_POLL_INTERVAL": "0.2",
        **extra_environ,
    }


async def start(client: Client, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await client.post("/jobs", json=job_body(**changes), headers=headers)
    assert response.status == 201, await response.text()
    job: dict[str, Any] = await response.json()
    assert job["status"] == "queued"
    return job


async def described(client: Client, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    response = await client.get(f"/jobs/{job_id}", headers=headers)
    assert response.status == 200, await response.text()
    job: dict[str, Any] = await response.json()
    return job


async def report(client: Client, api_key: str, job_id: int, status: str, details: str) -> int:
    body = {"job_id": job_id, "status": status, "runtime_details": details}
    response = await client.put("/_job_status", json=body, headers={"x-api-key": api_key})
    return response.status


@asynccontextmanager
async def job_store(url: str) -> AsyncIterator[JobStore]:
    """A store of its own on the service's database, to look into the outbox."""
    async with open_database(url) as database:
        yield database.jobs


async def next_due(url: str) -> datetime | None:
    async with job_store(url) as store:
        return await _next_due(store)


async def wait_until_the_outbox_is_empty(url: str) -> None:
    """Once no delivery is pending, nothing can be sent again: what was received is final."""
    async with job_store(url) as store:
        await polled(lambda: _next_due(store), lambda due: due is None)


async def _next_due(store: JobStore) -> datetime | None:
    async with store.transaction() as transaction:
        return await transaction.outbox.next_due()


def job_ids(fake: FakeWorkerApi) -> Counter[int]:
    return Counter(received.body["job"]["meta"]["job_id"] for received in fake.received)
