"""How a job is laid out in the `jobs` table, shared by the SQLite and PostgreSQL stores.

`attributes` and `hardware` are JSON documents; the other columns are plain
values. Functions here take and give decoded values (datetimes, dicts), each
store converting them to and from its driver's types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from userfacing_api.domain.jobs import (
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
)


def attributes_document(spec: JobSpec) -> dict[str, Any]:
    return {
        "files_down": {
            "config_id": spec.inputs.config_id,
            "data_ids": list(spec.inputs.data_ids),
            "artifact_ids": list(spec.inputs.artifact_ids),
        },
        "env_vars": dict(spec.env_vars),
    }


def hardware_document(hardware: Hardware | None) -> dict[str, Any] | None:
    return None if hardware is None else asdict(hardware)


def job_from_row(row: Mapping[str, Any]) -> Job:
    """A job from a row of the `jobs` table, with JSON columns and dates already decoded."""
    files_down = row["attributes"]["files_down"]
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
        env_vars=dict(row["attributes"]["env_vars"]),
        environment=None if environment is None else Environment(environment),
        priority=row["priority"],
        hardware=None if hardware is None else Hardware(**hardware),
    )
    return Job(
        id=row["id"],
        user_id=row["user_id"],
        user_email=row["user_email"],
        spec=spec,
        status=JobStatus(row["status"]),
        date_created=row["date_created"],
        date_started=row["date_started"],
        date_finished=row["date_finished"],
        runtime_details=row["runtime_details"],
    )
