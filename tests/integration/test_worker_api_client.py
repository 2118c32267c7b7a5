"""Handing jobs to the worker-facing API, against a local stand-in of that API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.integration.fakes_http import FakeWorkerApi
from userfacing_api.adapters.worker_api import WorkerApiQueue, open_worker_api_session
from userfacing_api.ports.worker_queue import (
    DeliveryOutcomeUnknown,
    DeliveryRejected,
    DeliveryUnavailable,
)

TIMEOUT_SECONDS = 0.5

PAYLOAD: dict[str, Any] = {
    "job": {
        "app": {"cmd": ["python", "-m", "decode"], "env": {"SEED": "1"}},
        "handler": {
            "image_url": "registry.example/decode:0.10",
            "image_name": "decode",
            "image_version": "0.10",
            "entrypoint": "train",
            "files_down": {"config/param.yaml": "/data/alice/config/c1/param.yaml"},
            "files_up": {"output": "output", "log": "log"},
        },
        "meta": {"job_id": 42, "date_created": "2024-05-01T12:00:00+00:00"},
        "hardware": {"cpu_cores": 4, "memory": 8000},
    },
    "environment": "cloud",
    "group": None,
    "priority": 3,
    "paths_upload": {
        "output": "/data/alice/output/my-job",
        "log": "/data/alice/log/my-job",
        "artifact": "/data/alice/artifact/my-job",
    },
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with open_worker_api_session(TIMEOUT_SECONDS, TIMEOUT_SECONDS) as session:
        yield session


@pytest.fixture
def queue(session: aiohttp.ClientSession, fake_worker_api: FakeWorkerApi) -> WorkerApiQueue:
    return WorkerApiQueue(session, fake_worker_api.url, fake_worker_api.api_key)


async def test_a_job_reaches_the_worker_api_with_its_payload_and_api_key(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    await queue.enqueue(PAYLOAD)

    [received] = await fake_worker_api.wait_for_jobs(1)
    assert received.body == PAYLOAD
    assert received.headers["x-api-key"] == fake_worker_api.api_key
    assert received.status == 201


async def test_a_base_url_with_a_trailing_slash_reaches_the_same_endpoint(
    session: aiohttp.ClientSession, fake_worker_api: FakeWorkerApi
) -> None:
    queue = WorkerApiQueue(session, fake_worker_api.url + "/", fake_worker_api.api_key)

    await queue.enqueue(PAYLOAD)

    assert [received.status for received in fake_worker_api.received] == [201]


async def test_a_rejected_job_raises_delivery_rejected_carrying_the_worker_detail(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.reject(422, detail="unknown image 'decode:0.10'")

    with pytest.raises(DeliveryRejected) as raised:
        await queue.enqueue(PAYLOAD)

    assert "unknown image 'decode:0.10'" in raised.value.detail
    assert "422" in raised.value.detail


async def test_a_structured_rejection_detail_is_carried_as_json(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.reject(422, detail=[{"loc": ["body", "job"], "msg": "field required"}])

    with pytest.raises(DeliveryRejected) as raised:
        await queue.enqueue(PAYLOAD)

    assert '"msg": "field required"' in raised.value.detail


async def test_a_very_long_rejection_detail_is_cut_short(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.reject(400, detail="x" * 100_000)

    with pytest.raises(DeliveryRejected) as raised:
        await queue.enqueue(PAYLOAD)

    assert "xxxx" in raised.value.detail
    assert len(raised.value.detail) < 1000


async def test_a_wrong_api_key_is_a_rejection(
    session: aiohttp.ClientSession, fake_worker_api: FakeWorkerApi
) -> None:
    queue = WorkerApiQueue(session, fake_worker_api.url, "not-the-worker-key")

    with pytest.raises(DeliveryRejected) as raised:
        await queue.enqueue(PAYLOAD)

    assert "401" in raised.value.detail


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_a_failing_or_busy_worker_api_is_unavailable(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi, status: int
) -> None:
    fake_worker_api.fail(status)

    with pytest.raises(DeliveryUnavailable) as raised:
        await queue.enqueue(PAYLOAD)

    assert str(status) in raised.value.detail


async def test_a_refused_connection_is_unavailable_until_the_worker_api_comes_back(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    await fake_worker_api.go_down()

    with pytest.raises(DeliveryUnavailable) as raised:
        await queue.enqueue(PAYLOAD)
    assert "cannot connect" in raised.value.detail

    await fake_worker_api.come_back()
    await queue.enqueue(PAYLOAD)
    assert [received.status for received in fake_worker_api.received] == [201]


async def test_a_worker_api_that_never_answers_leaves_the_outcome_unknown_after_the_read_timeout(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.hang()
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(DeliveryOutcomeUnknown) as raised:
        await queue.enqueue(PAYLOAD)

    elapsed = loop.time() - started
    assert TIMEOUT_SECONDS * 0.9 <= elapsed < TIMEOUT_SECONDS + 1.0
    assert "no answer in time" in raised.value.detail
    assert [received.status for received in fake_worker_api.received] == [None]


async def test_a_worker_api_that_cannot_be_reached_did_not_get_the_job(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    await fake_worker_api.go_down()

    with pytest.raises(DeliveryUnavailable) as raised:
        await queue.enqueue(PAYLOAD)

    assert not isinstance(raised.value, DeliveryOutcomeUnknown)


async def test_a_worker_api_answering_409_already_holds_the_job(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.reject(409, detail="job 7 exists")

    await queue.enqueue(PAYLOAD)

    assert [received.status for received in fake_worker_api.received] == [409]


async def test_the_api_key_appears_in_no_error_and_no_log_line(
    queue: WorkerApiQueue, fake_worker_api: FakeWorkerApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = fake_worker_api.api_key
    errors: list[DeliveryRejected | DeliveryUnavailable] = []

    fake_worker_api.reject(403, detail=f"key {key} may not submit jobs")
    with pytest.raises(DeliveryRejected) as rejected:
        await queue.enqueue(PAYLOAD)
    errors.append(rejected.value)
    fake_worker_api.fail(503)
    with pytest.raises(DeliveryUnavailable) as failed:
        await queue.enqueue(PAYLOAD)
    errors.append(failed.value)
    fake_worker_api.hang()
    with pytest.raises(DeliveryUnavailable) as timed_out:
        await queue.enqueue(PAYLOAD)
    errors.append(timed_out.value)
    await fake_worker_api.go_down()
    with pytest.raises(DeliveryUnavailable) as refused:
        await queue.enqueue(PAYLOAD)
    errors.append(refused.value)

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 4
    assert "may not submit jobs" in errors[0].detail
    for error in errors:
        assert key not in str(error)
        assert key not in error.detail
    assert key not in caplog.text
