"""Cancelling jobs, their history, filters and the active-jobs limit, on in-memory fakes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.job_world import ALICE, BOB, JobWorld, load_catalogue, train_spec
from userfacing_api.domain.errors import Conflict, LimitReached, NotFound
from userfacing_api.domain.events import JobEvent
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobFilter, JobStatus
from userfacing_api.ports.worker_queue import DeliveryUnavailable

ALICE_ID = UserId("alice")
BOB_ID = UserId("bob")


@pytest.fixture
async def world(reference_catalogue: Path) -> JobWorld:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_inputs()
    await world.put_inputs("bob")
    return world


def history(world: JobWorld, job: Job) -> list[tuple[JobStatus, str | None]]:
    return [
        (event.status, event.runtime_details)
        for _, event in world.store.events
        if event.job_id == job.id
    ]


async def pending_job(world: JobWorld, name: str = "run1") -> Job:
    """A job whose first delivery failed, so it waits in the outbox."""
    world.queue.answers.append(DeliveryUnavailable("worker API unreachable: refused"))
    return await world.jobs.create(ALICE, train_spec(name))


async def test_a_new_job_starts_its_history_queued_at_creation(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())

    events = await world.job_events.history("alice", job.id)

    assert events == [JobEvent(1, job.id, job.date_created, JobStatus.QUEUED, None)]


async def test_changes_and_details_are_events_and_keep_alives_are_not(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    for status, details in [
        (JobStatus.PULLED, None),
        (JobStatus.RUNNING, None),
        (JobStatus.RUNNING, None),
        (JobStatus.RUNNING, ""),
        (JobStatus.RUNNING, "epoch 3"),
        (JobStatus.RUNNING, None),
        (JobStatus.FINISHED, "done"),
    ]:
        world.clock.advance(1)
        await world.job_status.update(job.id, status, details)

    assert history(world, job) == [
        (JobStatus.QUEUED, None),
        (JobStatus.PULLED, None),
        (JobStatus.RUNNING, None),
        (JobStatus.RUNNING, "epoch 3"),
        (JobStatus.FINISHED, "done"),
    ]


async def test_a_keep_alive_commits_no_more_than_before(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    await world.job_status.update(job.id, JobStatus.RUNNING, None)
    events = list(world.store.events)

    await world.job_status.update(job.id, JobStatus.RUNNING, None)

    assert world.store.events == events


async def test_another_users_history_is_not_found(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())

    with pytest.raises(NotFound):
        await world.job_events.history("bob", job.id)
    with pytest.raises(NotFound):
        await world.jobs.cancel(BOB_ID, job.id)


async def test_cancelling_withdraws_the_delivery_and_keeps_the_job(world: JobWorld) -> None:
    job = await pending_job(world)
    world.clock.advance(5)

    cancelled = await world.jobs.cancel(ALICE_ID, job.id)
    world.clock.advance(3600)
    await world.dispatcher.run_once()
    await world.settle()

    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.date_finished == world.clock.now() - _hours(1)
    assert world.store.jobs[job.id] == cancelled
    assert world.store.deliveries == {}
    assert (world.queue.calls, world.queue.sent) == (1, []), "only the attempt before the cancel"
    assert world.notifier.notices == []
    assert history(world, job)[-1] == (JobStatus.CANCELLED, None)


async def test_reports_on_a_cancelled_job_are_not_found(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    await world.job_status.update(job.id, JobStatus.RUNNING, None)
    await world.jobs.cancel(ALICE_ID, job.id)

    with pytest.raises(NotFound):
        await world.job_status.update(job.id, JobStatus.RUNNING, None)
    assert world.store.jobs[job.id].status is JobStatus.CANCELLED


@pytest.mark.parametrize("ended", [JobStatus.FINISHED, JobStatus.ERROR])
async def test_an_ended_job_cannot_be_cancelled(world: JobWorld, ended: JobStatus) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    await world.job_status.update(job.id, ended, None)

    with pytest.raises(Conflict, match=ended.value):
        await world.jobs.cancel(ALICE_ID, job.id)


async def test_cancelling_twice_is_a_conflict(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    await world.jobs.cancel(ALICE_ID, job.id)

    with pytest.raises(Conflict, match="cancelled"):
        await world.jobs.cancel(ALICE_ID, job.id)


async def test_delivery_trouble_and_the_eventual_delivery_are_in_the_history(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    for _ in range(2):
        world.queue.answers.append(DeliveryUnavailable("worker API unreachable: refused"))
        world.clock.current = world.store.deliveries[job.id].next_attempt_at
        await world.dispatcher.run_once()
    world.clock.current = world.store.deliveries[job.id].next_attempt_at
    await world.dispatcher.run_once()

    assert history(world, job) == [
        (JobStatus.QUEUED, None),
        (
            JobStatus.QUEUED,
            "Not yet handed to the workers (worker API unreachable: refused); retrying",
        ),
        (JobStatus.QUEUED, "Handed to the workers after 3 failed attempts"),
    ]


async def test_a_delivery_at_the_first_attempt_adds_nothing(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())

    assert history(world, job) == [(JobStatus.QUEUED, None)]


async def test_giving_up_a_delivery_is_an_error_event(world: JobWorld) -> None:
    job = await pending_job(world)
    world.clock.current = job.date_created + _hours(1)

    await world.dispatcher.run_once()

    status, details = history(world, job)[-1]
    assert status is JobStatus.ERROR
    assert "Not delivered to the workers" in (details or "")


async def test_deleting_a_job_deletes_its_history(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())
    kept = await world.jobs.create(ALICE, train_spec("run2"))

    await world.jobs.delete(ALICE_ID, job.id)

    assert {event.job_id for _, event in world.store.events} == {kept.id}


async def test_the_active_jobs_limit_counts_only_jobs_that_have_not_ended(
    reference_catalogue: Path,
) -> None:
    world = JobWorld(load_catalogue(reference_catalogue), active_jobs_limit=2)
    await world.put_inputs()
    first = await world.jobs.create(ALICE, train_spec("a"))
    await world.jobs.create(ALICE, train_spec("b"))

    with pytest.raises(LimitReached, match="the limit is 2"):
        await world.jobs.create(ALICE, train_spec("c"))
    await world.jobs.cancel(ALICE_ID, first.id)
    await world.jobs.create(ALICE, train_spec("c"))
    await world.put_inputs("bob")
    await world.jobs.create(BOB, train_spec("a"))


async def test_listings_filter_by_status_application_and_name_prefix(world: JobWorld) -> None:
    train = await world.jobs.create(ALICE, train_spec("beads/train"))
    other = await world.jobs.create(ALICE, train_spec("beads/other"))
    third = await world.jobs.create(ALICE, train_spec("cells"))
    await world.job_status.update(train.id, JobStatus.RUNNING, None)

    def names(jobs: list[Job]) -> list[str]:
        return [job.spec.job_name for job in jobs]

    running = JobFilter(statuses=frozenset({JobStatus.RUNNING, JobStatus.QUEUED}))
    assert names(await world.jobs.list_jobs(ALICE_ID, 0, 10, running)) == [
        third.spec.job_name,
        other.spec.job_name,
        train.spec.job_name,
    ]
    only_running = JobFilter(statuses=frozenset({JobStatus.RUNNING}))
    assert names(await world.jobs.list_jobs(ALICE_ID, 0, 10, only_running)) == ["beads/train"]
    by_name = JobFilter(name_prefix="beads/")
    assert names(await world.jobs.list_jobs(ALICE_ID, 0, 10, by_name)) == [
        "beads/other",
        "beads/train",
    ]
    assert await world.jobs.list_jobs(ALICE_ID, 0, 10, JobFilter(application="comet")) == []


def _hours(count: int) -> timedelta:
    return timedelta(hours=count)
