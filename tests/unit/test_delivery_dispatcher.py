"""Retrying deliveries: back-off, deadline, leases, and the dispatcher's task."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.job_world import ALICE, DEADLINE, JobWorld, load_catalogue, train_spec
from tests.waiting import WAIT_SECONDS, eventually
from userfacing_api.domain.delivery import Lease, RetryPolicy
from userfacing_api.domain.jobs import Job, JobStatus
from userfacing_api.ports.worker_queue import (
    DeliveryOutcomeUnknown,
    DeliveryRejected,
    DeliveryUnavailable,
)
from userfacing_api.runtime.dispatcher_runner import DispatcherRunner
from userfacing_api.service_layer.delivery import DEFAULT_UNKNOWN_OUTCOME_WAIT
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher


@pytest.fixture
async def world(reference_catalogue: Path) -> JobWorld:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_inputs()
    return world


async def pending_job(world: JobWorld, name: str = "run1") -> Job:
    """A job whose immediate delivery failed, so it waits for the dispatcher."""
    world.queue.answers.append(DeliveryUnavailable("worker API unreachable"))
    return await world.jobs.create(ALICE, train_spec(name))


def test_the_back_off_doubles_with_jitter_up_to_its_cap() -> None:
    policy = RetryPolicy(first_delay=1.0, max_delay=10.0)
    assert [policy.delay(n, 0.0).total_seconds() for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        5.0,
        5.0,
    ]
    assert policy.delay(3, 0.999999).total_seconds() == pytest.approx(4.0, abs=1e-5)
    assert policy.delay(10_000, 0.5) == timedelta(seconds=7.5)


async def test_a_due_delivery_is_sent_and_ended(world: JobWorld) -> None:
    job = await pending_job(world)
    world.clock.advance(1)

    result = await world.dispatcher.run_once()

    assert result.handled == 1
    assert result.next_due is None
    assert [sent["job"]["meta"]["job_id"] for sent in world.queue.sent] == [job.id]
    assert world.store.deliveries == {}


async def test_nothing_is_sent_before_it_is_due(world: JobWorld) -> None:
    job = await pending_job(world)
    due = world.store.deliveries[job.id].next_attempt_at

    result = await world.dispatcher.run_once()

    assert (result.handled, result.next_due) == (0, due)
    assert world.queue.sent == []


async def test_failed_attempts_back_off_further_each_time(world: JobWorld) -> None:
    job = await pending_job(world)
    pauses = []
    for _ in range(4):
        world.queue.answers.append(DeliveryUnavailable("still down"))
        due = world.store.deliveries[job.id].next_attempt_at
        world.clock.current = due
        await world.dispatcher.run_once()
        pauses.append((world.store.deliveries[job.id].next_attempt_at - due).total_seconds())

    assert pauses == [1.5, 3.0, 6.0, 12.0]
    assert world.store.deliveries[job.id].attempts == 5


async def test_a_retry_is_never_scheduled_past_the_deadline(world: JobWorld) -> None:
    job = await pending_job(world)
    world.clock.current = job.date_created + DEADLINE - timedelta(seconds=1)
    world.queue.answers.append(DeliveryUnavailable("still down"))

    await world.dispatcher.run_once()

    assert world.store.deliveries[job.id].next_attempt_at == job.date_created + DEADLINE


async def test_past_the_deadline_the_job_fails_saying_why_and_its_owner_is_told(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    world.clock.current = job.date_created + DEADLINE

    await world.dispatcher.run_once()
    await world.settle()

    failed = world.store.jobs[job.id]
    assert failed.status is JobStatus.ERROR
    assert failed.date_finished == world.clock.now()
    assert failed.runtime_details == (
        "Not delivered to the workers within 3600 s of its creation;"
        " last error: worker API unreachable"
    )
    assert world.store.deliveries == {}
    assert world.queue.sent == []
    assert [(notice.job_id, notice.status) for notice in world.notifier.notices] == [
        (job.id, "error")
    ]


async def test_a_job_rejected_on_a_retry_fails_with_the_reason(world: JobWorld) -> None:
    job = await pending_job(world)
    world.queue.answers.append(DeliveryRejected("worker API rejected the job (400): no"))
    world.clock.advance(1)

    await world.dispatcher.run_once()
    await world.settle()

    failed = world.store.jobs[job.id]
    assert failed.status is JobStatus.ERROR
    assert failed.runtime_details == (
        "Rejected by the worker-facing API: worker API rejected the job (400): no"
    )
    assert world.store.deliveries == {}
    assert [notice.status for notice in world.notifier.notices] == ["error"]


async def test_a_delivery_held_by_the_request_path_waits_for_its_lease_to_expire(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    world.clock.advance(1)
    lease = Lease(token="request path", until=world.clock.now() + timedelta(minutes=5))
    async with world.store.transaction() as transaction:
        held = await transaction.outbox.claim(world.clock.now(), lease, 10)
    assert [delivery.job_id for delivery in held] == [job.id]

    blocked = await world.dispatcher.run_once()
    world.clock.current = lease.until
    freed = await world.dispatcher.run_once()

    assert (blocked.handled, blocked.next_due) == (0, lease.until)
    assert freed.handled == 1
    assert len(world.queue.sent) == 1


async def test_two_dispatchers_at_once_send_each_job_once(world: JobWorld) -> None:
    jobs = [await pending_job(world, f"run{number}") for number in range(5)]
    other = DeliveryDispatcher(world.store, world.deliveries, world.clock, batch_size=2)
    world.clock.advance(1)

    await asyncio.gather(world.dispatcher.run_once(), other.run_once(), other.run_once())

    sent = sorted(payload["job"]["meta"]["job_id"] for payload in world.queue.sent)
    assert sent == [job.id for job in jobs]
    assert world.store.deliveries == {}


async def test_a_job_whose_first_delivery_failed_wakes_the_running_dispatcher(
    world: JobWorld,
) -> None:
    async with world.runner.running(stop_grace_seconds=WAIT_SECONDS):
        # The first round finds nothing and leaves the runner asleep for its poll interval.
        await eventually(lambda: world.store.commits == 2)
        job = await pending_job(world)
        world.clock.advance(1)

        await eventually(lambda: job.id not in world.store.deliveries)

    assert len(world.queue.sent) == 1


async def test_the_runner_delivers_when_woken_and_stops_cleanly(world: JobWorld) -> None:
    runner = DispatcherRunner(world.dispatcher, world.clock, poll_interval=60.0)
    async with runner.running(stop_grace_seconds=WAIT_SECONDS):
        job = await pending_job(world)
        world.clock.advance(1)
        runner.wake()
        await eventually(lambda: job.id not in world.store.deliveries)

    assert len(world.queue.sent) == 1


async def test_the_runner_retries_when_the_next_delivery_becomes_due(world: JobWorld) -> None:
    job = await pending_job(world)
    runner = DispatcherRunner(world.dispatcher, world.clock, poll_interval=60.0)
    async with runner.running(stop_grace_seconds=WAIT_SECONDS):
        await eventually(lambda: world.queue.calls == 1)
        world.clock.current = world.store.deliveries[job.id].next_attempt_at
        runner.wake()
        await eventually(lambda: world.store.deliveries == {})

    assert len(world.queue.sent) == 1


async def test_a_round_cut_short_by_the_grace_period_waits_before_the_job_is_offered_again(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    world.queue.gate = asyncio.Event()
    world.clock.advance(1)
    runner = DispatcherRunner(world.dispatcher, world.clock, poll_interval=60.0)
    async with asyncio.timeout(WAIT_SECONDS):
        async with runner.running(stop_grace_seconds=0.01):
            await eventually(lambda: world.queue.calls == 2)

    assert world.queue.sent == []
    stored = world.store.deliveries[job.id]
    assert stored.claim is None
    assert stored.last_error == "interrupted by a shutdown"
    assert stored.next_attempt_at == world.clock.now() + DEFAULT_UNKNOWN_OUTCOME_WAIT


async def test_a_job_sent_without_an_answer_is_offered_again_only_after_the_wait(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    world.queue.answers.append(DeliveryOutcomeUnknown("worker API gave no answer"))
    world.clock.advance(1)

    await world.dispatcher.run_once()
    world.clock.advance(DEFAULT_UNKNOWN_OUTCOME_WAIT.total_seconds() - 1)
    early = await world.dispatcher.run_once()
    world.clock.advance(1)
    await world.dispatcher.run_once()

    assert early.handled == 0
    assert world.queue.calls == 3
    assert [sent["job"]["meta"]["job_id"] for sent in world.queue.sent] == [job.id]


async def test_a_job_sent_without_an_answer_and_since_reported_on_is_not_sent_again(
    world: JobWorld,
) -> None:
    job = await pending_job(world)
    world.queue.answers.append(DeliveryOutcomeUnknown("worker API gave no answer"))
    world.clock.advance(1)
    await world.dispatcher.run_once()

    await world.job_status.update(job.id, JobStatus.PULLED, None)
    world.clock.advance(DEFAULT_UNKNOWN_OUTCOME_WAIT.total_seconds())
    await world.dispatcher.run_once()

    assert world.queue.sent == []
    assert world.store.deliveries == {}
