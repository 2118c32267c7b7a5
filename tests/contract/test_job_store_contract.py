"""The job store contract, run against every backend.

To run it on another backend, add a factory to `JOB_STORE_BACKENDS`: an async
context manager that takes the pytest request (for other fixtures, via
`request.getfixturevalue`, e.g. `postgres_url`; list asynchronous ones in
`BACKEND_FIXTURES`) and a fresh temporary folder, and yields an empty store on
a freshly migrated database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.fakes import InMemoryJobStore
from userfacing_api.adapters.db.database import open_database
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import AlreadyExists
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import (
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
)
from userfacing_api.ports.jobs import JobStore, NewDelivery, NewJob, OutboxSummary

JobStoreFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[JobStore]]

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


@asynccontextmanager
async def memory_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    yield InMemoryJobStore()


@asynccontextmanager
async def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    async with open_database(f"sqlite:///{tmp_path / 'jobs.db'}") as database:
        yield database.jobs


@asynccontextmanager
async def postgres_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    """The session's PostgreSQL database, emptied of jobs (tests run one at a time)."""
    async with open_database(request.getfixturevalue("postgres_url")) as database:
        await database.session.execute("TRUNCATE job_events, job_deliveries, jobs")
        yield database.jobs


JOB_STORE_BACKENDS: dict[str, JobStoreFactory] = {
    "memory": memory_store,
    "sqlite": sqlite_store,
    "postgres": postgres_store,
}


# Asynchronous fixtures a backend's factory asks for (with `request.getfixturevalue`).
BACKEND_FIXTURES: dict[str, tuple[str, ...]] = {"postgres": ("postgres_url",)}


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
        for name in JOB_STORE_BACKENDS
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend's name, with the fixtures its factory needs already set up.

    Done here, outside the event loop: an asynchronous fixture cannot be set up
    from inside the running loop of `store`.
    """
    chosen: str = request.param
    for fixture in BACKEND_FIXTURES.get(chosen, ()):
        request.getfixturevalue(fixture)
    return chosen


@pytest.fixture
async def store(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> AsyncIterator[JobStore]:
    async with JOB_STORE_BACKENDS[backend](request, tmp_path) as opened:
        yield opened


def spec(job_name: str = "run1") -> JobSpec:
    return JobSpec(
        job_name=job_name,
        application=ApplicationRef("decode", "v0_10_1", "train"),
        inputs=InputFolders(config_id="exp1", data_ids=("a", "b/c"), artifact_ids=("m",)),
        env_vars={"SEED": "1"},
        environment=Environment.LOCAL,
        priority=2,
        hardware=Hardware(cpu_cores=2, gpu_model="A100"),
    )


def new_job(user_id: str = "alice", job_name: str = "run1", at: datetime = T0) -> NewJob:
    return NewJob(
        user_id=UserId(user_id),
        user_email=f"{user_id}@example.org",
        spec=spec(job_name),
        date_created=at,
    )


async def add_job(store: JobStore, **changes: object) -> Job:
    async with store.transaction() as transaction:
        return await transaction.jobs.add(new_job(**changes))  # type: ignore[arg-type]


async def add_delivery(
    store: JobStore, job: Job, due: datetime = T0, lease: Lease | None = None
) -> None:
    payload = {"job": {"meta": {"job_id": job.id}}, "priority": 2, "group": None}
    async with store.transaction() as transaction:
        await transaction.outbox.add(NewDelivery(job.id, payload, job.date_created, due), lease)


def lease(holder: str = "lease-1", until: datetime = T0 + timedelta(minutes=2)) -> Lease:
    return Lease(token=holder, until=until)


async def test_a_stored_job_reads_back_unchanged(store: JobStore) -> None:
    job = await add_job(store)

    async with store.transaction() as transaction:
        read = await transaction.jobs.get(job.id)
        locked = await transaction.jobs.lock(job.id)

    assert job.status is JobStatus.QUEUED
    assert job.spec == spec()
    assert job.date_created == T0
    assert read == job
    assert locked == job


async def test_a_job_without_optional_fields_reads_back_unchanged(store: JobStore) -> None:
    bare = replace(spec(), env_vars={}, environment=None, hardware=None, inputs=InputFolders("c"))
    async with store.transaction() as transaction:
        job = await transaction.jobs.add(NewJob(UserId("alice"), None, bare, T0))
    async with store.transaction() as transaction:
        assert await transaction.jobs.get(job.id) == job


async def test_ids_are_fresh_for_every_job_even_after_deletion(store: JobStore) -> None:
    first = await add_job(store, job_name="a")
    second = await add_job(store, job_name="b")
    async with store.transaction() as transaction:
        await transaction.jobs.delete(second.id)
    third = await add_job(store, job_name="c")

    assert first.id < second.id < third.id


@pytest.mark.parametrize("job_id", [0, -1, 10**6, 2**63 - 1, 2**63, 10**30])
async def test_an_unknown_id_is_not_found(store: JobStore, job_id: int) -> None:
    async with store.transaction() as transaction:
        assert await transaction.jobs.get(job_id) is None
        assert await transaction.jobs.lock(job_id) is None
        assert await transaction.jobs.delete(job_id) is False
        assert await transaction.outbox.end(job_id, None) is False
        assert await transaction.outbox.reschedule(job_id, "lease-1", T0, "refused") is False
    async with store.reading() as reads:
        assert await reads.jobs.get(job_id) is None
        assert await reads.jobs.get_with_delivery(job_id) is None


async def test_a_user_cannot_have_two_jobs_of_one_name(store: JobStore) -> None:
    await add_job(store, user_id="alice")
    await add_job(store, user_id="bob")

    with pytest.raises(AlreadyExists):
        await add_job(store, user_id="alice")


async def test_a_rolled_back_transaction_leaves_nothing(store: JobStore) -> None:
    added: list[Job] = []

    async def abandoned() -> None:
        async with store.transaction() as transaction:
            added.append(await transaction.jobs.add(new_job()))
            await transaction.outbox.add(NewDelivery(added[0].id, {}, T0, T0), None)
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError):
        await abandoned()

    async with store.transaction() as transaction:
        assert await transaction.jobs.get(added[0].id) is None
        assert await transaction.outbox.next_due() is None
    await add_job(store)


async def test_jobs_are_listed_newest_first_with_ties_broken_by_id(store: JobStore) -> None:
    older = await add_job(store, job_name="older", at=T0)
    tied_a = await add_job(store, job_name="tied-a", at=T0 + timedelta(seconds=5))
    tied_b = await add_job(store, job_name="tied-b", at=T0 + timedelta(seconds=5))
    newest = await add_job(store, job_name="newest", at=T0 + timedelta(microseconds=5_000_001))
    await add_job(store, user_id="bob", job_name="bobs", at=T0 + timedelta(hours=1))

    async with store.transaction() as transaction:
        everything = await transaction.jobs.list_for_user(UserId("alice"), 0, 100)
        pages = [
            await transaction.jobs.list_for_user(UserId("alice"), offset, 2) for offset in (0, 2, 4)
        ]
        huge = await transaction.jobs.list_for_user(UserId("alice"), 0, 2**70)

    expected = [newest.id, tied_b.id, tied_a.id, older.id]
    assert [job.id for job in everything] == expected
    assert [[job.id for job in page] for page in pages] == [expected[:2], expected[2:], []]
    assert [job.id for job in huge] == expected


async def test_reads_outside_a_transaction_see_what_is_committed_and_nothing_else(
    store: JobStore,
) -> None:
    kept = await add_job(store, job_name="kept")
    try:
        async with store.transaction() as transaction:
            await transaction.jobs.add(new_job(job_name="rolled-back"))
            raise LookupError("abandon")
    except LookupError:
        pass

    async with store.reading() as reads:
        read = await reads.jobs.get(kept.id)
        listed = await reads.jobs.list_for_user(UserId("alice"), 0, 100)
        unknown = await reads.jobs.get(kept.id + 1000)

    assert read == kept
    assert listed == [kept]
    assert unknown is None


async def test_reads_made_at_once_each_get_their_own_job(store: JobStore) -> None:
    jobs = [await add_job(store, job_name=f"run{number}") for number in range(5)]
    await add_delivery(store, jobs[1], lease=lease("request"))
    unknown = jobs[-1].id + 1000

    async with store.reading() as reads:
        got = await asyncio.gather(
            *(reads.jobs.get(job.id) for job in reversed(jobs)),
            reads.jobs.get(jobs[2].id),
            reads.jobs.get(unknown),
        )
        flagged = await asyncio.gather(
            reads.jobs.get_with_delivery(jobs[0].id),
            reads.jobs.get_with_delivery(jobs[1].id),
            reads.jobs.get_with_delivery(unknown),
        )

    assert list(got) == [*reversed(jobs), jobs[2], None]
    assert list(flagged) == [(jobs[0], False), (jobs[1], True), None]


async def test_dates_keep_their_instant_whatever_the_time_zone(store: JobStore) -> None:
    elsewhere = T0.astimezone(timezone(timedelta(hours=2)))
    job = await add_job(store, at=elsewhere)
    async with store.transaction() as transaction:
        read = await transaction.jobs.get(job.id)
    assert read is not None
    assert read.date_created == T0


async def test_a_saved_job_keeps_its_status_dates_and_details(store: JobStore) -> None:
    job = await add_job(store)
    changed = replace(
        job,
        status=JobStatus.FINISHED,
        date_started=T0 + timedelta(seconds=1),
        date_finished=T0 + timedelta(seconds=2),
        runtime_details="line 1\nline 2",
    )

    async with store.transaction() as transaction:
        await transaction.jobs.save(changed)
    async with store.transaction() as transaction:
        assert await transaction.jobs.get(job.id) == changed


async def test_deleting_a_job_removes_its_delivery_and_frees_its_name(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job)

    async with store.transaction() as transaction:
        assert await transaction.jobs.delete(job.id) is True
    async with store.transaction() as transaction:
        assert await transaction.jobs.get(job.id) is None
        assert await transaction.outbox.next_due() is None
        assert await transaction.outbox.claim(T0, lease(), 10) == []
    await add_job(store)


async def test_a_due_delivery_is_claimed_with_its_payload(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job)

    async with store.transaction() as transaction:
        claimed = await transaction.outbox.claim(T0, lease(), 10)

    assert len(claimed) == 1
    delivery = claimed[0]
    assert delivery.job_id == job.id
    assert delivery.payload == {"job": {"meta": {"job_id": job.id}}, "priority": 2, "group": None}
    assert delivery.job_created == T0
    assert (delivery.attempts, delivery.last_error) == (0, None)
    assert delivery.lease == lease()


async def test_a_delivery_is_not_claimed_before_it_is_due(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job, due=T0 + timedelta(seconds=10))

    async with store.transaction() as transaction:
        early = await transaction.outbox.claim(T0, lease(), 10)
        due = await transaction.outbox.next_due()
        on_time = await transaction.outbox.claim(T0 + timedelta(seconds=10), lease(), 10)

    assert early == []
    assert due == T0 + timedelta(seconds=10)
    assert [delivery.job_id for delivery in on_time] == [job.id]


async def test_a_held_delivery_is_claimed_again_only_after_its_lease_expires(
    store: JobStore,
) -> None:
    job = await add_job(store)
    await add_delivery(store, job, lease=lease("request", T0 + timedelta(seconds=30)))

    async with store.transaction() as transaction:
        held = await transaction.outbox.claim(T0 + timedelta(seconds=29), lease("other"), 10)
        due = await transaction.outbox.next_due()
        expired = await transaction.outbox.claim(
            T0 + timedelta(seconds=30), lease("other", T0 + timedelta(minutes=5)), 10
        )

    assert held == []
    assert due == T0 + timedelta(seconds=30)
    assert [delivery.lease.token for delivery in expired] == ["other"]


async def test_claims_take_the_earliest_due_up_to_the_limit(store: JobStore) -> None:
    jobs = [await add_job(store, job_name=f"run{number}") for number in range(4)]
    for offset, job in zip((3, 1, 2, 0), jobs, strict=True):
        await add_delivery(store, job, due=T0 + timedelta(seconds=offset))
    now = T0 + timedelta(seconds=10)

    async with store.transaction() as transaction:
        first = await transaction.outbox.claim(now, lease("a", now + timedelta(minutes=1)), 2)
        second = await transaction.outbox.claim(now, lease("b", now + timedelta(minutes=1)), 10)

    assert sorted(delivery.job_id for delivery in first) == sorted([jobs[3].id, jobs[1].id])
    assert sorted(delivery.job_id for delivery in second) == sorted([jobs[2].id, jobs[0].id])


async def test_only_the_lease_holder_ends_a_delivery(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job)
    async with store.transaction() as transaction:
        await transaction.outbox.claim(T0, lease("mine"), 10)

    async with store.transaction() as transaction:
        assert await transaction.outbox.end(job.id, "someone else's") is False
        assert await transaction.outbox.next_due() is not None
        assert await transaction.outbox.end(job.id, "mine") is True
        assert await transaction.outbox.end(job.id, "mine") is False
        assert await transaction.outbox.next_due() is None


async def test_a_delivery_can_be_ended_whoever_holds_it(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job, lease=lease("request"))

    async with store.transaction() as transaction:
        assert await transaction.outbox.end(job.id, None) is True
        assert await transaction.outbox.next_due() is None


async def test_a_job_is_read_with_whether_its_delivery_is_pending(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job, lease=lease("request"))

    async with store.reading() as reads:
        assert await reads.jobs.get_with_delivery(job.id) == (job, True)
    async with store.transaction() as transaction:
        await transaction.outbox.end(job.id, None)
    async with store.reading() as reads:
        assert await reads.jobs.get_with_delivery(job.id) == (job, False)
        assert await reads.jobs.get_with_delivery(job.id + 1) is None


async def test_a_rescheduled_delivery_counts_the_failure_and_is_released(store: JobStore) -> None:
    job = await add_job(store)
    await add_delivery(store, job, lease=lease("mine"))
    retry_at = T0 + timedelta(seconds=5)

    async with store.transaction() as transaction:
        assert await transaction.outbox.reschedule(job.id, "other", retry_at, "x") is False
        assert await transaction.outbox.reschedule(job.id, "mine", retry_at, "503") is True
        assert await transaction.outbox.reschedule(job.id, "mine", retry_at, "again") is False
        due = await transaction.outbox.next_due()
        claimed = await transaction.outbox.claim(retry_at, lease("next"), 10)

    assert due == retry_at
    assert [(d.attempts, d.last_error, d.lease.token) for d in claimed] == [(1, "503", "next")]


async def test_the_next_due_time_is_the_earliest_over_all_deliveries(store: JobStore) -> None:
    early, late = await add_job(store, job_name="early"), await add_job(store, job_name="late")
    await add_delivery(store, late, due=T0 + timedelta(seconds=9))
    await add_delivery(store, early, due=T0 + timedelta(seconds=3))

    async with store.transaction() as transaction:
        assert await transaction.outbox.next_due() == T0 + timedelta(seconds=3)


async def test_concurrent_claims_never_share_a_delivery(store: JobStore) -> None:
    jobs = [await add_job(store, job_name=f"run{number}") for number in range(6)]
    for job in jobs:
        await add_delivery(store, job)

    async def claim(token: str) -> list[int]:
        async with store.transaction() as transaction:
            claimed = await transaction.outbox.claim(T0, lease(token), 2)
        return [delivery.job_id for delivery in claimed]

    results = await asyncio.gather(*(claim(f"claimer-{number}") for number in range(5)))

    claimed_ids = [job_id for result in results for job_id in result]
    assert sorted(claimed_ids) == sorted(job.id for job in jobs)


async def test_the_store_answers_a_ping(store: JobStore) -> None:
    await store.ping()


async def test_the_outbox_summary_counts_pending_deliveries_held_or_not_and_the_oldest(
    store: JobStore,
) -> None:
    async with store.transaction() as transaction:
        assert await transaction.outbox.summary() == OutboxSummary(0, None)
    older = await add_job(store, job_name="older", at=T0)
    newer = await add_job(store, job_name="newer", at=T0 + timedelta(minutes=5))
    await add_delivery(store, newer, lease=lease())
    await add_delivery(store, older, due=T0 + timedelta(hours=1))

    async with store.transaction() as transaction:
        summary = await transaction.outbox.summary()

    assert summary == OutboxSummary(pending=2, oldest_created=T0)
