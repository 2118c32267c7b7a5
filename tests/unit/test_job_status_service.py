"""Status reports from the worker side, and the owner's notice when a job ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.job_world import ALICE, API_KEY, BOB, JobWorld, load_catalogue, train_spec
from userfacing_api.domain.errors import NotFound, Unauthenticated
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobStatus
from userfacing_api.ports.notifier import JobEndedNotice
from userfacing_api.ports.worker_queue import DeliveryUnavailable
from userfacing_api.runtime.background import BackgroundTasks
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.notifications import JobEndNotifications


@pytest.fixture
async def world(reference_catalogue: Path) -> JobWorld:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_inputs()
    await world.put_inputs("bob")
    return world


@pytest.fixture
async def job(world: JobWorld) -> Job:
    return await world.jobs.create(ALICE, train_spec())


def test_the_internal_key_is_required_and_must_match(world: JobWorld) -> None:
    world.job_status.authorise(API_KEY)
    with pytest.raises(Unauthenticated, match="Missing"):
        world.job_status.authorise(None)
    with pytest.raises(Unauthenticated, match="Invalid"):
        world.job_status.authorise(API_KEY + "x")
    with pytest.raises(Unauthenticated, match="Invalid"):
        world.job_status.authorise("")


def test_without_a_configured_key_every_call_is_refused(world: JobWorld) -> None:
    notifications = JobEndNotifications(world.notifier, BackgroundTasks())
    closed = JobStatusService(world.store, world.clock, notifications, None)
    for key in (None, "", API_KEY):
        with pytest.raises(Unauthenticated):
            closed.authorise(key)


async def test_an_unknown_job_is_not_found(world: JobWorld) -> None:
    with pytest.raises(NotFound):
        await world.job_status.update(404, JobStatus.RUNNING, None)


async def test_a_report_records_status_dates_and_details(world: JobWorld, job: Job) -> None:
    world.clock.advance(10)
    assert await world.job_status.update(job.id, JobStatus.PULLED, "picked up") is JobStatus.PULLED
    started = world.clock.now()
    world.clock.advance(10)
    await world.job_status.update(job.id, JobStatus.RUNNING, "epoch 1")
    world.clock.advance(10)
    await world.job_status.update(job.id, JobStatus.FINISHED, None)

    stored = world.store.jobs[job.id]
    assert stored.status is JobStatus.FINISHED
    assert stored.date_started == started
    assert stored.date_finished == world.clock.now()
    assert stored.runtime_details == "picked up\nepoch 1"


async def test_keep_alives_that_change_nothing_write_nothing(world: JobWorld, job: Job) -> None:
    await world.job_status.update(job.id, JobStatus.RUNNING, None)
    commits = world.store.commits
    before = world.store.jobs[job.id]

    assert await world.job_status.update(job.id, JobStatus.RUNNING, None) is JobStatus.RUNNING

    assert world.store.jobs[job.id] == before
    assert world.store.commits == commits


async def test_a_keep_alive_still_ends_a_pending_delivery(world: JobWorld) -> None:
    world.queue.answers.append(DeliveryUnavailable("timed out after the job was taken"))
    job = await world.jobs.create(ALICE, train_spec())
    assert world.store.jobs[job.id].status is JobStatus.QUEUED
    assert job.id in world.store.deliveries

    assert await world.job_status.update(job.id, JobStatus.QUEUED, None) is JobStatus.QUEUED

    assert world.store.deliveries == {}


async def test_the_owner_is_notified_once_when_the_job_finishes(world: JobWorld, job: Job) -> None:
    await world.job_status.update(job.id, JobStatus.RUNNING, None)
    await world.job_status.update(job.id, JobStatus.FINISHED, "done")
    await world.job_status.update(job.id, JobStatus.FINISHED, None)
    await world.job_status.update(job.id, JobStatus.FINISHED, "still done")
    await world.settle()

    assert world.notifier.notices == [
        JobEndedNotice(
            job_id=job.id,
            job_name="run1",
            status="finished",
            recipient="alice@example.org",
            runtime_details="done",
        )
    ]


async def test_each_new_entry_into_an_end_is_notified(world: JobWorld, job: Job) -> None:
    await world.job_status.update(job.id, JobStatus.ERROR, "timed out")
    await world.job_status.update(job.id, JobStatus.QUEUED, "retrying")
    await world.job_status.update(job.id, JobStatus.FINISHED, None)
    await world.settle()

    assert [notice.status for notice in world.notifier.notices] == ["error", "finished"]


async def test_a_job_without_an_address_sends_no_notice(world: JobWorld) -> None:
    job = await world.jobs.create(BOB, train_spec())

    await world.job_status.update(job.id, JobStatus.ERROR, "failed")
    await world.settle()

    assert world.notifier.notices == []


async def test_a_failing_notifier_never_fails_the_update(world: JobWorld, job: Job) -> None:
    world.notifier.failure = RuntimeError("mail server on fire")

    assert await world.job_status.update(job.id, JobStatus.FINISHED, None) is JobStatus.FINISHED
    await world.settle()

    assert world.store.jobs[job.id].status is JobStatus.FINISHED


async def test_a_report_drops_a_delivery_still_pending_for_the_job(world: JobWorld) -> None:
    world.queue.answers.append(DeliveryUnavailable("timed out after the job was taken"))
    job = await world.jobs.create(ALICE, train_spec())
    assert job.id in world.store.deliveries

    await world.job_status.update(job.id, JobStatus.PULLED, None)

    assert world.store.deliveries == {}


async def test_reports_for_a_deleted_job_are_not_found(world: JobWorld, job: Job) -> None:
    await world.jobs.delete(UserId("alice"), job.id)

    with pytest.raises(NotFound):
        await world.job_status.update(job.id, JobStatus.RUNNING, None)
