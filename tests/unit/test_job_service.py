"""Starting, listing, reading and deleting jobs, on in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.job_world import ALICE, BOB, JobWorld, load_catalogue, train_spec
from userfacing_api.domain.applications import Catalogue
from userfacing_api.domain.errors import (
    AlreadyExists,
    BadRequest,
    InvalidInput,
    NotFound,
    UpstreamRejected,
)
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import ApplicationRef, JobStatus
from userfacing_api.ports.worker_queue import DeliveryRejected, DeliveryUnavailable


@pytest.fixture
def catalogue(reference_catalogue: Path) -> Catalogue:
    return load_catalogue(reference_catalogue)


@pytest.fixture
async def world(catalogue: Catalogue) -> JobWorld:
    world = JobWorld(catalogue)
    await world.put_inputs()
    return world


async def test_an_accepted_job_is_queued_delivered_and_leaves_no_pending_delivery(
    world: JobWorld,
) -> None:
    job = await world.jobs.create(ALICE, train_spec())

    assert job.status is JobStatus.QUEUED
    assert job.user_id == "alice"
    assert job.user_email == "alice@example.org"
    assert job.date_created == world.clock.now()
    assert job.spec.priority == 0
    assert world.store.jobs == {job.id: job}
    assert [sent["job"]["meta"]["job_id"] for sent in world.queue.sent] == [job.id]
    assert world.store.deliveries == {}


async def test_the_job_and_its_payload_are_committed_together_before_delivery(
    world: JobWorld,
) -> None:
    world.queue.answers.append(DeliveryUnavailable("down"))

    job = await world.jobs.create(ALICE, train_spec())

    pending = world.store.deliveries[job.id]
    assert pending.payload["job"]["meta"]["job_id"] == job.id
    assert pending.job_created == job.date_created


async def test_a_job_the_worker_side_cannot_take_now_is_queued_and_retried_later(
    world: JobWorld,
) -> None:
    world.queue.answers.append(DeliveryUnavailable("worker API answered 503"))

    job = await world.jobs.create(ALICE, train_spec())

    assert job.status is JobStatus.QUEUED
    pending = world.store.deliveries[job.id]
    assert pending.attempts == 1
    assert pending.last_error == "worker API answered 503"
    assert pending.claim is None
    assert pending.locked_until is None
    assert pending.next_attempt_at == world.clock.now() + timedelta(seconds=0.75)


async def test_a_job_the_worker_side_rejects_is_not_kept_and_its_name_is_free_again(
    world: JobWorld,
) -> None:
    world.queue.answers.append(DeliveryRejected("worker API rejected the job (422): bad"))

    with pytest.raises(UpstreamRejected, match="rejected the job \\(422\\): bad"):
        await world.jobs.create(ALICE, train_spec())

    assert world.store.jobs == {}
    assert world.store.deliveries == {}
    again = await world.jobs.create(ALICE, train_spec())
    assert again.spec.job_name == "run1"


async def test_without_a_worker_side_jobs_wait_in_the_outbox(catalogue: Catalogue) -> None:
    world = JobWorld(catalogue, with_worker_side=False)
    await world.put_inputs()

    job = await world.jobs.create(ALICE, train_spec())

    assert world.queue.calls == 0
    pending = world.store.deliveries[job.id]
    assert (pending.attempts, pending.claim, pending.next_attempt_at) == (0, None, job.date_created)


async def test_a_job_name_can_be_used_once_per_user(world: JobWorld) -> None:
    await world.put_inputs("bob")
    await world.jobs.create(ALICE, train_spec())
    await world.jobs.create(BOB, train_spec())

    with pytest.raises(AlreadyExists):
        await world.jobs.create(ALICE, train_spec())
    assert len(world.queue.sent) == 2


@pytest.mark.parametrize(
    "ref",
    [
        ApplicationRef("nope", "v0_10_1", "train"),
        ApplicationRef("decode", "v9", "train"),
        ApplicationRef("decode", "v0_10_1", "nope"),
    ],
)
async def test_an_unknown_entrypoint_is_refused_and_nothing_is_stored(
    world: JobWorld, ref: ApplicationRef
) -> None:
    with pytest.raises(InvalidInput, match=r"nope|v9"):
        await world.jobs.create(ALICE, replace(train_spec(), application=ref))
    assert world.store.jobs == {}
    assert world.queue.calls == 0


async def test_env_vars_outside_the_entrypoints_list_are_refused(world: JobWorld) -> None:
    with pytest.raises(InvalidInput, match="SECRET"):
        await world.jobs.create(ALICE, replace(train_spec(), env_vars={"SECRET": "1"}))
    assert world.store.jobs == {}


async def test_a_priority_outside_zero_to_five_is_refused(world: JobWorld) -> None:
    with pytest.raises(InvalidInput, match="priority"):
        await world.jobs.create(ALICE, replace(train_spec(), priority=6))


@pytest.mark.parametrize(
    ("inputs", "missing"),
    [
        ({"config_id": "nope"}, "config/nope"),
        ({"data_ids": ("beads", "nope")}, "data/nope"),
        ({"artifact_ids": ("nope",)}, "artifact/nope"),
        ({"config_id": "exp1/other.yaml"}, "config/exp1/other.yaml"),
    ],
)
async def test_a_missing_input_is_a_bad_request_naming_it(
    world: JobWorld, inputs: dict[str, Any], missing: str
) -> None:
    with pytest.raises(BadRequest, match=f"'{missing}' does not exist"):
        await world.jobs.create(ALICE, train_spec(**inputs))
    assert world.store.jobs == {}


async def test_an_input_file_is_sent_alone_under_its_root_by_its_name(world: JobWorld) -> None:
    await world.put_file("alice", "data/beads/deep/frames.tif")
    await world.put_file("alice", "artifact/model/weights.pt")

    await world.jobs.create(
        ALICE,
        train_spec(
            config_id="exp1/param.yaml",
            data_ids=("beads/deep/frames.tif",),
            artifact_ids=("model/weights.pt",),
        ),
    )

    assert world.queue.sent[0]["job"]["handler"]["files_down"] == {
        "config/param.yaml": "memory://alice/config/exp1/param.yaml",
        "data/frames.tif": "memory://alice/data/beads/deep/frames.tif",
        "artifact/weights.pt": "memory://alice/artifact/model/weights.pt",
    }


async def test_data_and_artifact_ids_may_be_empty(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec(data_ids=(), artifact_ids=()))
    assert world.queue.sent[0]["job"]["handler"]["files_down"] == {
        "config/param.yaml": "memory://alice/config/exp1/param.yaml"
    }
    assert job.spec.inputs.data_ids == ()


async def test_a_job_reads_only_its_owners_folders(world: JobWorld) -> None:
    await world.put_file("bob", "config/bobs/param.yaml")

    with pytest.raises(BadRequest):
        await world.jobs.create(ALICE, train_spec(config_id="bobs"))
    with pytest.raises(InvalidInput):
        await world.jobs.create(ALICE, train_spec(config_id="../../bob/config/bobs"))


async def test_jobs_are_listed_newest_first_and_only_the_callers(world: JobWorld) -> None:
    await world.put_inputs("bob")
    for name in ("first", "second", "third"):
        await world.jobs.create(ALICE, train_spec(name))
        world.clock.advance(1)
    await world.jobs.create(BOB, train_spec("bobs"))

    listed = await world.jobs.list_jobs(UserId("alice"), 0, 100)
    page = await world.jobs.list_jobs(UserId("alice"), 1, 1)

    assert [job.spec.job_name for job in listed] == ["third", "second", "first"]
    assert [job.spec.job_name for job in page] == ["second"]


async def test_another_users_job_cannot_be_read_or_deleted(world: JobWorld) -> None:
    job = await world.jobs.create(ALICE, train_spec())

    with pytest.raises(NotFound):
        await world.jobs.get(UserId("bob"), job.id)
    with pytest.raises(NotFound):
        await world.jobs.delete(UserId("bob"), job.id)
    assert await world.jobs.get(UserId("alice"), job.id) == job


async def test_deleting_a_job_removes_it_its_delivery_and_its_result_folders(
    world: JobWorld,
) -> None:
    world.queue.answers.append(DeliveryUnavailable("down"))
    job = await world.jobs.create(ALICE, train_spec())
    for folder in ("output/run1", "log/run1", "artifact/run1", "output/run10", "output/other"):
        await world.put_file("alice", f"{folder}/result.txt")
    await world.put_file("bob", "output/run1/bobs.txt")

    await world.jobs.delete(UserId("alice"), job.id)

    assert world.store.jobs == {}
    assert world.store.deliveries == {}
    remaining = world.storage.paths("alice")
    assert not {"output/run1", "log/run1", "artifact/run1"} & remaining
    assert {
        "output/run10/result.txt",
        "output/other/result.txt",
        "data/beads/calib.mat",
    } <= remaining
    assert "output/run1/bobs.txt" in world.storage.paths("bob")
    with pytest.raises(NotFound):
        await world.jobs.get(UserId("alice"), job.id)


async def test_the_catalogue_is_served_as_configured(world: JobWorld, catalogue: Catalogue) -> None:
    assert await world.jobs.applications() == catalogue.document
