"""The job store's history, active-job count and filtered listing, on every backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.contract.test_job_store_contract import T0, add_job, new_job
from tests.contract.test_job_store_contract import backend as backend
from tests.contract.test_job_store_contract import store as store
from userfacing_api.domain.events import JobEvent, NewJobEvent
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobFilter, JobStatus
from userfacing_api.ports.jobs import JobStore


async def record(
    store: JobStore, job: Job, status: JobStatus, details: str | None = None, seconds: int = 0
) -> int:
    async with store.transaction() as transaction:
        await transaction.jobs.lock(job.id)
        return await transaction.events.add(
            NewJobEvent(job.id, job.user_id, T0 + timedelta(seconds=seconds), status, details)
        )


async def test_events_read_back_oldest_first_after_a_number(store: JobStore) -> None:
    job = await add_job(store)
    first = await record(store, job, JobStatus.QUEUED)
    second = await record(store, job, JobStatus.RUNNING, "epoch 1", seconds=5)

    async with store.transaction() as transaction:
        every = await transaction.events.of_job(job.id)
        later = await transaction.events.of_job(job.id, first)

    assert second > first
    assert every == [
        JobEvent(first, job.id, T0, JobStatus.QUEUED, None),
        JobEvent(second, job.id, T0 + timedelta(seconds=5), JobStatus.RUNNING, "epoch 1"),
    ]
    assert later == every[1:]


async def test_a_users_events_span_their_jobs_and_no_one_elses(store: JobStore) -> None:
    first = await add_job(store, job_name="a")
    other = await add_job(store, user_id="bob", job_name="a")
    second = await add_job(store, job_name="b")
    numbers = [
        await record(store, first, JobStatus.QUEUED),
        await record(store, other, JobStatus.QUEUED),
        await record(store, second, JobStatus.QUEUED),
        await record(store, first, JobStatus.FINISHED),
    ]

    async with store.transaction() as transaction:
        alices = await transaction.events.of_user("alice", 0, 10)
        page = await transaction.events.of_user("alice", numbers[0], 1)

    assert [(event.seq, event.job_id) for event in alices] == [
        (numbers[0], first.id),
        (numbers[2], second.id),
        (numbers[3], first.id),
    ]
    assert [event.seq for event in page] == [numbers[2]]


async def test_an_event_rolled_back_with_its_change_is_not_kept(store: JobStore) -> None:
    job = await add_job(store)

    async def crash_before_commit() -> None:
        async with store.transaction() as transaction:
            await transaction.jobs.save(replace(job, status=JobStatus.RUNNING))
            await transaction.events.add(NewJobEvent(job.id, "alice", T0, JobStatus.RUNNING))
            raise RuntimeError("crash before the commit")

    with pytest.raises(RuntimeError):
        await crash_before_commit()

    async with store.transaction() as transaction:
        assert await transaction.events.of_job(job.id) == []
        assert (await transaction.jobs.get(job.id)) == job


async def test_deleting_a_job_deletes_its_events(store: JobStore) -> None:
    job = await add_job(store)
    kept = await add_job(store, job_name="kept")
    await record(store, job, JobStatus.QUEUED)
    await record(store, kept, JobStatus.QUEUED)

    async with store.transaction() as transaction:
        await transaction.jobs.delete(job.id)
    async with store.transaction() as transaction:
        remaining = await transaction.events.of_user("alice", 0, 10)

    assert [event.job_id for event in remaining] == [kept.id]


async def test_active_jobs_are_those_not_finished_error_or_cancelled(store: JobStore) -> None:
    for name, status in [
        ("q", JobStatus.QUEUED),
        ("r", JobStatus.RUNNING),
        ("f", JobStatus.FINISHED),
        ("e", JobStatus.ERROR),
        ("c", JobStatus.CANCELLED),
    ]:
        job = await add_job(store, job_name=name)
        async with store.transaction() as transaction:
            await transaction.jobs.save(replace(job, status=status))
    await add_job(store, user_id="bob")

    async with store.transaction() as transaction:
        assert await transaction.jobs.count_active(UserId("alice")) == 2
        assert await transaction.jobs.count_active(UserId("carol")) == 0


async def test_counting_active_jobs_holds_off_another_transaction_adding_one(
    store: JobStore,
) -> None:
    """Two submissions checking a limit of one at the same time: the second sees the first."""
    counted: list[int] = []

    async def submit(name: str) -> None:
        async with store.transaction() as transaction:
            active = await transaction.jobs.count_active(UserId("alice"))
            counted.append(active)
            await asyncio.sleep(0.05)  # widen the window between the count and the insert
            if active == 0:
                await transaction.jobs.add(new_job(job_name=name))

    await asyncio.gather(submit("a"), submit("b"))

    assert sorted(counted) == [0, 1]


async def test_listings_filter_in_sql_and_keep_the_newest_first(store: JobStore) -> None:
    jobs = [
        await add_job(store, job_name=name, at=T0 + timedelta(seconds=number))
        for number, name in enumerate(["beads/a", "beads/b", "Beads/c", "cells", "beads_x"])
    ]
    async with store.transaction() as transaction:
        await transaction.jobs.save(replace(jobs[0], status=JobStatus.RUNNING))
        await transaction.jobs.save(replace(jobs[3], status=JobStatus.ERROR))

    async def names(only: JobFilter, offset: int = 0, limit: int = 10) -> list[str]:
        async with store.transaction() as transaction:
            listed = await transaction.jobs.list_for_user(UserId("alice"), offset, limit, only)
        return [job.spec.job_name for job in listed]

    running_or_queued = frozenset({JobStatus.RUNNING, JobStatus.QUEUED})
    assert await names(JobFilter(statuses=running_or_queued)) == [
        "beads_x",
        "Beads/c",
        "beads/b",
        "beads/a",
    ]
    assert await names(JobFilter(statuses=running_or_queued), offset=1, limit=2) == [
        "Beads/c",
        "beads/b",
    ]
    assert await names(JobFilter(name_prefix="beads/")) == ["beads/b", "beads/a"]
    assert await names(JobFilter(name_prefix="beads_")) == ["beads_x"]
    assert await names(JobFilter(name_prefix="beads%")) == []
    assert await names(JobFilter(application="decode", statuses=frozenset({JobStatus.ERROR}))) == [
        "cells"
    ]
    assert await names(JobFilter(application="comet")) == []
