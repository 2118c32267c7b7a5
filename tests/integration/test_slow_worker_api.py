"""A slow, silent or late-refusing worker-facing API, on both database engines.

The service runs as configured against a stand-in over real HTTP; the stand-in
takes its time to answer, never answers, or refuses a job after a while.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import ClientFactory
from tests.databases import database_url as database_url
from tests.fakes import RecordingNotifier
from tests.http.jobs_fixtures import alice as alice
from tests.http.jobs_fixtures import files as files
from tests.http.test_metrics import scrape, value
from tests.integration.fakes_http import FakeWorkerApi
from tests.integration.worker_api_setup import (
    Client,
    described,
    job_ids,
    next_due,
    report,
    start,
    wait_until_the_outbox_is_empty,
)
from tests.integration.worker_api_setup import environ as environ
from tests.integration.worker_api_setup import extra_environ as extra_environ
from tests.waiting import polled
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import Settings

# As slow as the worker-facing API that delivered every job three times.
SLOW_ACCEPT_SECONDS = 12.0
UNKNOWN_OUTCOME_WAIT = 600.0


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings, notifier: RecordingNotifier
) -> Client:
    return await aiohttp_client(create_app(settings, notifier=notifier))


async def due_again_after_no_answer(url: str, sent: datetime, wait: float) -> datetime:
    """When the delivery is due again once rescheduled by `wait` after an attempt without
    an answer; a lease (held while the attempt runs) lasts 30 s longer than the call."""
    due = await polled(
        lambda: next_due(url),
        lambda due: (
            due is not None
            and sent + timedelta(seconds=wait) <= due < sent + timedelta(seconds=wait + 20)
        ),
    )
    assert due is not None
    return due


async def test_a_worker_api_that_accepts_after_12_s_gets_each_job_exactly_once(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi, settings: Settings
) -> None:
    fake_worker_api.slow(SLOW_ACCEPT_SECONDS)

    jobs = [await start(client, alice, job_name=f"run{number}") for number in range(3)]

    # Every job was answered `queued` before the worker side had answered anything.
    assert all(received.status is None for received in fake_worker_api.received)
    await polled(
        lambda: _answered(fake_worker_api), lambda count: count == 3, SLOW_ACCEPT_SECONDS * 3
    )
    await wait_until_the_outbox_is_empty(settings.database.url)
    assert job_ids(fake_worker_api) == {job["id"]: 1 for job in jobs}


@pytest.mark.parametrize(
    "extra_environ",
    [
        {
            "WORKERFACING_API_READ_TIMEOUT": "0.3",
            "JOB_DELIVERY_UNKNOWN_OUTCOME_WAIT": str(UNKNOWN_OUTCOME_WAIT),
        }
    ],
)
async def test_a_job_sent_without_an_answer_waits_before_it_is_offered_again(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi, settings: Settings
) -> None:
    fake_worker_api.hang()
    sent = datetime.now(UTC)

    await start(client, alice)

    await due_again_after_no_answer(settings.database.url, sent, UNKNOWN_OUTCOME_WAIT)
    assert len(fake_worker_api.received) == 1
    assert fake_worker_api.received[0].status is None


@pytest.mark.parametrize(
    "extra_environ",
    [{"WORKERFACING_API_READ_TIMEOUT": "0.3", "JOB_DELIVERY_UNKNOWN_OUTCOME_WAIT": "2"}],
)
async def test_a_job_sent_without_an_answer_is_not_sent_again_once_a_worker_reports_on_it(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi, settings: Settings
) -> None:
    fake_worker_api.slow(1.0, times=1)
    sent = datetime.now(UTC)

    job = await start(client, alice)
    await due_again_after_no_answer(settings.database.url, sent, 2.0)
    status = await report(client, fake_worker_api.api_key, job["id"], "pulled", "")

    assert status == 200
    await polled(lambda: next_due(settings.database.url), lambda due: due is None, within=10.0)
    assert job_ids(fake_worker_api) == {job["id"]: 1}


@pytest.mark.parametrize(
    "extra_environ",
    [{"WORKERFACING_API_READ_TIMEOUT": "0.3", "JOB_DELIVERY_UNKNOWN_OUTCOME_WAIT": "0.5"}],
)
async def test_a_job_sent_without_an_answer_and_never_reported_on_is_offered_once_more(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi, settings: Settings
) -> None:
    fake_worker_api.slow(1.0, times=1)

    job = await start(client, alice)

    await polled(lambda: next_due(settings.database.url), lambda due: due is None, within=10.0)
    assert job_ids(fake_worker_api) == {job["id"]: 2}
    samples = await scrape(client)
    assert value(samples, "userfacing_job_delivery_attempts_total", outcome="no_answer") == 1
    assert value(samples, "userfacing_job_delivery_failures_total", reason="no_answer") == 1
    assert value(samples, "userfacing_job_delivery_attempts_total", outcome="delivered") == 1
    assert (await described(client, alice, job["id"]))["status"] == "queued"


async def test_a_worker_api_answering_409_to_a_job_already_holds_it(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi, settings: Settings
) -> None:
    fake_worker_api.reject(409, detail="job 1 is already queued")

    job = await start(client, alice)

    await wait_until_the_outbox_is_empty(settings.database.url)
    assert (await described(client, alice, job["id"]))["status"] == "queued"


async def test_a_rejection_after_the_answer_turns_the_job_to_error_and_tells_its_owner(
    client: Client,
    alice: dict[str, str],
    fake_worker_api: FakeWorkerApi,
    notifier: RecordingNotifier,
) -> None:
    fake_worker_api.reject(422, detail="no worker offers an A100")
    fake_worker_api.slow(3.0)

    job = await start(client, alice)

    assert fake_worker_api.received[0].status is None
    failed = await polled(
        lambda: described(client, alice, job["id"]),
        lambda current: current["status"] == "error",
        within=10.0,
    )
    assert "no worker offers an A100" in failed["runtime_details"]
    [notice] = await polled(lambda: _notices(notifier), bool)
    assert notice.job_id == job["id"]
    samples = await scrape(client)
    assert value(samples, "userfacing_job_delivery_attempts_total", outcome="rejected") == 1
    assert value(samples, "userfacing_job_delivery_failures_total", reason="rejected") == 1
    transitions = "userfacing_job_status_transitions_total"
    assert value(samples, transitions, from_status="queued", to_status="error") == 1


async def _answered(fake: FakeWorkerApi) -> int:
    return sum(received.status is not None for received in fake.received)


async def _notices(notifier: RecordingNotifier) -> list[Any]:
    return list(notifier.notices)
