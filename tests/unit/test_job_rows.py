"""Jobs read from rows: the same values give the same (immutable) job, other values another."""

from __future__ import annotations

import sqlite3
from dataclasses import FrozenInstanceError, replace
from datetime import datetime
from typing import Any

import pytest

from userfacing_api.adapters.db.job_rows import JOB_COLUMNS, JOBS_KEPT, job_from_row
from userfacing_api.domain.jobs import (
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
)

ROW: dict[str, Any] = {
    "id": 11,
    "user_id": "alice",
    "user_email": "alice@example.org",
    "job_name": "run-1",
    "status": "queued",
    "environment": None,
    "priority": 0,
    "application": "decode",
    "version": "v0_10_1",
    "entrypoint": "train",
    "attributes": '{"files_down": {"config_id": "cfg", "data_ids": ["d"], "artifact_ids": []},'
    ' "env_vars": {"SEED": "1"}}',
    "hardware": '{"cpu_cores": 2, "memory": null, "gpu_model": null, "gpu_archi": null,'
    ' "gpu_mem": null}',
    "date_created": "2026-03-01T12:30:05.123456+00:00",
    "date_started": None,
    "date_finished": None,
    "runtime_details": None,
}


def _row(**changes: Any) -> sqlite3.Row:
    """The row SQLite's driver gives for these values."""
    values = {**ROW, **changes}
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    columns = ", ".join(f"? AS {column}" for column in JOB_COLUMNS)
    row: sqlite3.Row = connection.execute(
        f"SELECT {columns}",
        [values[column] for column in JOB_COLUMNS],
    ).fetchone()
    connection.close()
    return row


def test_a_row_read_again_and_again_gives_the_same_job() -> None:
    first = job_from_row(_row(id=12), datetime.fromisoformat)
    kept = job_from_row(_row(id=12), datetime.fromisoformat)

    assert kept == first  # made anew: the second read keeps it
    assert job_from_row(_row(id=12), datetime.fromisoformat) is kept
    assert first.spec.env_vars == {"SEED": "1"}
    assert first.spec.hardware is not None
    assert first.spec.hardware.cpu_cores == 2


def test_jobs_read_once_each_are_not_kept() -> None:
    """A walk through many jobs keeps none of them, and leaves the kept ones in place."""
    polled = [job_from_row(_row(id=13), datetime.fromisoformat) for _ in range(2)][-1]
    walked = [_row(id=job_id) for job_id in range(100_000, 100_000 + JOBS_KEPT // 2)]

    first_reads = [job_from_row(row, datetime.fromisoformat) for row in walked]
    second_reads = [job_from_row(row, datetime.fromisoformat) for row in walked]

    assert all(again is not once for again, once in zip(second_reads, first_reads, strict=True))
    assert job_from_row(_row(id=13), datetime.fromisoformat) is polled


def test_a_changed_row_gives_a_job_with_the_change() -> None:
    queued = job_from_row(_row(), datetime.fromisoformat)
    running = job_from_row(
        _row(status="running", date_started="2026-03-01T12:31:00+00:00"), datetime.fromisoformat
    )

    assert queued.status is JobStatus.QUEUED
    assert running.status is JobStatus.RUNNING
    assert running.date_started == datetime.fromisoformat("2026-03-01T12:31:00+00:00")


def test_a_kept_job_whose_row_changed_is_made_anew_and_kept_in_its_place() -> None:
    queued = [job_from_row(_row(id=14), datetime.fromisoformat) for _ in range(2)][-1]
    changed = _row(id=14, status="running", date_started="2026-03-01T12:31:00+00:00")

    running = job_from_row(changed, datetime.fromisoformat)

    assert queued.status is JobStatus.QUEUED
    assert running.status is JobStatus.RUNNING
    assert job_from_row(changed, datetime.fromisoformat) is running


def test_the_same_values_read_with_another_date_reader_give_another_job() -> None:
    kept = [job_from_row(_row(id=15), datetime.fromisoformat) for _ in range(2)][-1]

    def read_datetime(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(microsecond=0)

    other = job_from_row(_row(id=15), read_datetime)

    assert other is not kept
    assert other.date_created == kept.date_created.replace(microsecond=0)


def test_the_job_used_least_lately_makes_room_for_the_next_one_kept() -> None:
    def read(job_id: int) -> Job:
        return job_from_row(_row(id=job_id), datetime.fromisoformat)

    others = range(300_000, 300_000 + JOBS_KEPT)
    for job_id in [*others, *others]:
        read(job_id)
    read(16)
    oldest = read(16)  # kept, and its first read is still noted
    for job_id in others[1:]:
        read(job_id)  # used again: 16 is now the one used least lately
    read(17)
    read(17)  # kept: 16 makes room

    assert read(16) is not oldest
    assert read(others[-1]) is read(others[-1])


def test_a_job_read_from_its_row_is_the_job_its_constructors_make() -> None:
    read = job_from_row(
        _row(
            environment="cloud",
            status="finished",
            date_started="2026-03-01T12:31:00+00:00",
            date_finished="2026-03-01T13:00:00+00:00",
            runtime_details="done",
        ),
        datetime.fromisoformat,
    )
    made = Job(
        id=11,
        user_id="alice",
        user_email="alice@example.org",
        spec=JobSpec(
            job_name="run-1",
            application=ApplicationRef("decode", "v0_10_1", "train"),
            inputs=InputFolders(config_id="cfg", data_ids=("d",), artifact_ids=()),
            env_vars={"SEED": "1"},
            environment=Environment.CLOUD,
            priority=0,
            hardware=Hardware(cpu_cores=2),
        ),
        status=JobStatus.FINISHED,
        date_created=datetime.fromisoformat("2026-03-01T12:30:05.123456+00:00"),
        date_started=datetime.fromisoformat("2026-03-01T12:31:00+00:00"),
        date_finished=datetime.fromisoformat("2026-03-01T13:00:00+00:00"),
        runtime_details="done",
    )

    assert read == made
    for read_part, made_part in (
        (read, made),
        (read.spec, made.spec),
        (read.spec.application, made.spec.application),
        (read.spec.inputs, made.spec.inputs),
    ):
        assert vars(read_part) == vars(made_part)
        assert type(read_part) is type(made_part)
    with pytest.raises(FrozenInstanceError):
        read.status = JobStatus.RUNNING  # type: ignore[misc]
    assert replace(read, runtime_details=None).runtime_details is None
