"""How jobs and their deliveries are laid out in the `jobs` and `job_deliveries` tables.

`attributes`, `hardware` and `payload` are JSON documents, sent and read as
text; the other columns are plain values and dates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from userfacing_api.adapters.db.session import Row
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.events import JobEvent
from userfacing_api.domain.jobs import (
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
)
from userfacing_api.ports.jobs import NewDelivery, NewJob, PendingDelivery


def new_job_values(new: NewJob) -> tuple[Any, ...]:
    """The values of a new `jobs` row, in the order of the columns `job_store` inserts."""
    spec = new.spec
    return (
        new.user_id,
        new.user_email,
        spec.job_name,
        JobStatus.QUEUED.value,
        None if spec.environment is None else spec.environment.value,
        spec.priority,
        spec.application.application,
        spec.application.version,
        spec.application.entrypoint,
        json.dumps(_attributes_document(spec)),
        None if spec.hardware is None else json.dumps(asdict(spec.hardware)),
        new.date_created,
    )


def new_delivery_values(delivery: NewDelivery, lease: Lease | None) -> tuple[Any, ...]:
    """The values of a new `job_deliveries` row, in the order `job_store` inserts them."""
    return (
        delivery.job_id,
        json.dumps(delivery.payload),
        delivery.job_created,
        delivery.next_attempt_at,
        None if lease is None else lease.token,
        None if lease is None else lease.until,
    )


def job_from_row(row: Row, read_datetime: Callable[[Any], datetime]) -> Job:
    """A job from a row of all the `jobs` columns."""
    attributes = orjson.loads(row["attributes"])
    files_down = attributes["files_down"]
    environment = row["environment"]
    hardware = row["hardware"]
    spec = JobSpec(
        job_name=row["job_name"],
        application=ApplicationRef(row["application"], row["version"], row["entrypoint"]),
        inputs=InputFolders(
            config_id=files_down["config_id"],
            data_ids=tuple(files_down["data_ids"]),
            artifact_ids=tuple(files_down["artifact_ids"]),
        ),
        env_vars=dict(attributes["env_vars"]),
        environment=None if environment is None else Environment(environment),
        priority=row["priority"],
        hardware=None if hardware is None else Hardware(**orjson.loads(hardware)),
    )
    return Job(
        id=row["id"],
        user_id=row["user_id"],
        user_email=row["user_email"],
        spec=spec,
        status=JobStatus(row["status"]),
        date_created=read_datetime(row["date_created"]),
        date_started=_datetime_or_none(row["date_started"], read_datetime),
        date_finished=_datetime_or_none(row["date_finished"], read_datetime),
        runtime_details=row["runtime_details"],
    )


def event_from_row(row: Row, read_datetime: Callable[[Any], datetime]) -> JobEvent:
    """An event from a `job_events` row."""
    return JobEvent(
        seq=row["seq"],
        job_id=row["job_id"],
        time=read_datetime(row["time"]),
        status=JobStatus(row["status"]),
        runtime_details=row["runtime_details"],
    )


def delivery_from_row(row: Row, read_datetime: Callable[[Any], datetime]) -> PendingDelivery:
    """A claimed delivery from a `job_deliveries` row."""
    return PendingDelivery(
        job_id=row["job_id"],
        payload=json.loads(row["payload"]),
        job_created=read_datetime(row["job_created"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        lease=Lease(token=row["claim"], until=read_datetime(row["locked_until"])),
    )


def _attributes_document(spec: JobSpec) -> dict[str, Any]:
    return {
        "files_down": {
            "config_id": spec.inputs.config_id,
            "data_ids": list(spec.inputs.data_ids),
            "artifact_ids": list(spec.inputs.artifact_ids),
        },
        "env_vars": dict(spec.env_vars),
    }


def _datetime_or_none(value: Any, read_datetime: Callable[[Any], datetime]) -> datetime | None:
    return None if value is None else read_datetime(value)
