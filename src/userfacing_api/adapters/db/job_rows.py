"""How jobs and their deliveries are laid out in the `jobs` and `job_deliveries` tables.

`attributes`, `hardware` and `payload` are JSON documents, sent and read as
text; the other columns are plain values and dates.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

import orjson

from userfacing_api.adapters.db.session import Row
from userfacing_api.adapters.recent_sightings import RecentSightings
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

_Member = TypeVar("_Member")
_Made = TypeVar("_Made")


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


JOB_COLUMNS = (
    "id",
    "user_id",
    "user_email",
    "job_name",
    "status",
    "environment",
    "priority",
    "application",
    "version",
    "entrypoint",
    "attributes",
    "hardware",
    "date_created",
    "date_started",
    "date_finished",
    "runtime_details",
)
"""The columns `job_from_row` reads, in the order it reads them."""

JOBS_KEPT = 1024
"""How many jobs `job_from_row` keeps for rows read again (ten pages of a listing, ~1 MiB)."""

_STATUSES = {status.value: status for status in JobStatus}
_ENVIRONMENTS = {environment.value: environment for environment in Environment}


def job_from_row(row: Row, read_datetime: Callable[[Any], datetime]) -> Job:
    """A job from a row of the `JOB_COLUMNS`, in that order.

    Jobs are immutable and made of nothing but the row's values, so the job of the
    same values, once kept, is shared: a listing shows the same jobs again and
    again (the web page polls it), and making a job costs several times its read.
    A job is kept from its second read on (`RecentSightings`).
    """
    values = tuple(row)
    if values[0] in _READ_LATELY:
        return _KEPT.job(values, read_datetime)
    return _first_read(values, read_datetime)


def job_and_flag_from_row(row: Row, read_datetime: Callable[[Any], datetime]) -> tuple[Job, bool]:
    """A job from a row of the `JOB_COLUMNS` followed by one yes/no column."""
    values = tuple(row)
    job_values, flag = values[:-1], bool(values[-1])
    if values[0] in _READ_LATELY:
        return _KEPT.job(job_values, read_datetime), flag
    return _first_read(job_values, read_datetime), flag


def _first_read(values: tuple[Any, ...], read_datetime: Callable[[Any], datetime]) -> Job:
    """The job of a row not read lately: made, not kept, and its id noted."""
    _READ_LATELY.note(values[0])
    return _made_job(values, read_datetime)


def _made_job(values: tuple[Any, ...], read_datetime: Callable[[Any], datetime]) -> Job:
    (
        job_id,
        user_id,
        user_email,
        job_name,
        status,
        environment,
        priority,
        application,
        version,
        entrypoint,
        attributes_text,
        hardware,
        date_created,
        date_started,
        date_finished,
        runtime_details,
    ) = values
    attributes = orjson.loads(attributes_text)
    files_down = attributes["files_down"]
    spec = _made(
        JobSpec,
        job_name=job_name,
        application=_made(
            ApplicationRef, application=application, version=version, entrypoint=entrypoint
        ),
        inputs=_made(
            InputFolders,
            config_id=files_down["config_id"],
            data_ids=tuple(files_down["data_ids"]),
            artifact_ids=tuple(files_down["artifact_ids"]),
        ),
        env_vars=attributes["env_vars"],
        environment=None
        if environment is None
        else _known(_ENVIRONMENTS, Environment, environment),
        priority=priority,
        hardware=None if hardware is None else Hardware(**orjson.loads(hardware)),
    )
    return _made(
        Job,
        id=job_id,
        user_id=user_id,
        user_email=user_email,
        spec=spec,
        status=_known(_STATUSES, JobStatus, status),
        date_created=read_datetime(date_created),
        date_started=None if date_started is None else read_datetime(date_started),
        date_finished=None if date_finished is None else read_datetime(date_finished),
        runtime_details=runtime_details,
    )


class _KeptJobs:
    """The last `size` jobs kept, each with the row values it was made of, by id.

    Looked up by id and compared with the row, rather than looked up by the row's
    values (as `functools.lru_cache` would): hashing a row hashes its dates, about
    0.35 µs each, and a listing reads a hundred rows.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: OrderedDict[Any, tuple[tuple[Any, ...], Callable[[Any], datetime], Job]] = (
            OrderedDict()
        )

    def job(self, values: tuple[Any, ...], read_datetime: Callable[[Any], datetime]) -> Job:
        """The job of these row values: the one kept if it was made of the same."""
        job_id = values[0]
        kept = self._jobs.get(job_id)
        if kept is not None and kept[1] == read_datetime and kept[0] == values:
            self._jobs.move_to_end(job_id)
            return kept[2]
        job = _made_job(values, read_datetime)
        self._jobs[job_id] = (values, read_datetime, job)
        self._jobs.move_to_end(job_id)
        if len(self._jobs) > self._size:
            self._jobs.popitem(last=False)
        return job


_KEPT = _KeptJobs(JOBS_KEPT)
_READ_LATELY = RecentSightings(JOBS_KEPT)
"""The ids of the jobs read lately, whether kept or not."""


def _made(kind: type[_Made], **fields: Any) -> _Made:
    """`kind(**fields)` of a frozen dataclass, every field given, for half its cost.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`,
    which makes the four objects of a job the largest part of reading one. Filling
    the new object's dictionary at once gives the very same object (the tests hold
    the two to the same fields); only values already known to be right go in.
    """
    made = object.__new__(kind)
    made.__dict__.update(fields)
    return made


def _known(members: dict[str, _Member], kind: Callable[[str], _Member], value: str) -> _Member:
    """`kind(value)` through a dictionary (an enum's own lookup costs several times more)."""
    member = members.get(value)
    return kind(value) if member is None else member


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
