"""Request and response bodies of the Jobs endpoints (the contract's JobCreate and Job)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_dump, validate

from userfacing_api.domain.events import JobEvent
from userfacing_api.domain.jobs import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobFilter,
    JobSpec,
    JobStatus,
)


class _Lenient(Schema):
    """Ignores fields it does not know, like the service this one replaces."""

    class Meta:
        unknown = EXCLUDE


class ApplicationSchema(_Lenient):
    application = fields.String(required=True)
    version = fields.String(required=True)
    entrypoint = fields.String(required=True)


class FilesDownSchema(_Lenient):
    config_id = fields.String(
        required=True, metadata={"description": "Folder below config/ with the configuration"}
    )
    data_ids = fields.List(
        fields.String(),
        load_default=list,
        allow_none=True,
        metadata={"description": "Folders below data/ (may be omitted)"},
    )
    artifact_ids = fields.List(
        fields.String(),
        load_default=list,
        allow_none=True,
        metadata={"description": "Folders below artifact/ (may be omitted)"},
    )


class AttributesSchema(_Lenient):
    files_down = fields.Nested(FilesDownSchema, required=True)
    env_vars = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        load_default=dict,
        allow_none=True,
        metadata={"description": "Keys must be in the entrypoint's app.env"},
    )


class HardwareSchema(_Lenient):
    cpu_cores = fields.Integer(allow_none=True, load_default=None)
    memory = fields.Integer(allow_none=True, load_default=None)
    gpu_model = fields.String(allow_none=True, load_default=None)
    gpu_archi = fields.String(allow_none=True, load_default=None)
    gpu_mem = fields.Integer(allow_none=True, load_default=None)


class _JobFields(_Lenient):
    job_name = fields.String(required=True, metadata={"description": "Unique among your jobs"})
    environment = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf([environment.value for environment in Environment]),
        metadata={"description": "null: any worker"},
    )
    priority = fields.Integer(
        allow_none=True,
        load_default=None,
        metadata={"description": f"{MIN_PRIORITY}..{MAX_PRIORITY}; null means {MIN_PRIORITY}"},
    )
    application = fields.Nested(ApplicationSchema, required=True)
    attributes = fields.Nested(AttributesSchema, required=True)
    hardware = fields.Nested(HardwareSchema, allow_none=True, load_default=None)


class JobCreateSchema(_JobFields):
    @post_load
    def to_spec(self, data: dict[str, Any], **kwargs: Any) -> JobSpec:
        files_down = data["attributes"]["files_down"]
        environment = data["environment"]
        hardware = data["hardware"]
        return JobSpec(
            job_name=data["job_name"],
            application=ApplicationRef(**data["application"]),
            inputs=InputFolders(
                config_id=files_down["config_id"],
                data_ids=tuple(files_down["data_ids"] or ()),
                artifact_ids=tuple(files_down["artifact_ids"] or ()),
            ),
            env_vars=data["attributes"]["env_vars"] or {},
            environment=None if environment is None else Environment(environment),
            priority=data["priority"],
            hardware=None if hardware is None else Hardware(**hardware),
        )


class PathsOutSchema(Schema):
    output = fields.String(required=True)
    log = fields.String(required=True)
    artifact = fields.String(required=True)


class JobSchema(_JobFields):
    id = fields.Integer(required=True)
    user_id = fields.String(required=True)
    user_email = fields.String(allow_none=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in JobStatus])
    )
    date_created = fields.DateTime(required=True)
    date_started = fields.DateTime(allow_none=True)
    date_finished = fields.DateTime(allow_none=True)
    runtime_details = fields.String(allow_none=True)
    paths_out = fields.Nested(PathsOutSchema, required=True)

    @pre_dump
    def from_job(self, job: Job, **kwargs: Any) -> dict[str, Any]:
        return _job_fields(job)


def job_document(job: Job) -> dict[str, Any]:
    """What `JobSchema().dump(job)` gives, built directly: listings answer jobs by the
    hundred, and a schema dump costs several times as much as the whole read. Dates are
    ISO 8601 text as the schema writes them; the tests hold the two to the same output."""
    document = _job_fields(job)
    document["date_created"] = job.date_created.isoformat()
    document["date_started"] = _iso_or_none(job.date_started)
    document["date_finished"] = _iso_or_none(job.date_finished)
    return document


def encoded_job_document(job: Job) -> bytes:
    """`job_document(job)` as JSON. orjson writes the dates itself, in the form
    `isoformat` gives, for a fraction of its cost; the tests hold the two to the same text."""
    return orjson.dumps(_job_fields(job))


def _job_fields(job: Job) -> dict[str, Any]:
    """A job as the schema's fields, every value already plain but the dates."""
    spec = job.spec
    application = spec.application
    hardware = spec.hardware
    return {
        "id": job.id,
        "job_name": spec.job_name,
        "environment": None if spec.environment is None else spec.environment.value,
        "priority": spec.priority,
        "application": {
            "application": application.application,
            "version": application.version,
            "entrypoint": application.entrypoint,
        },
        "attributes": {
            "files_down": {
                "config_id": spec.inputs.config_id,
                "data_ids": list(spec.inputs.data_ids),
                "artifact_ids": list(spec.inputs.artifact_ids),
            },
            "env_vars": dict(spec.env_vars),
        },
        "hardware": None if hardware is None else asdict(hardware),
        "user_id": job.user_id,
        "user_email": job.user_email,
        "status": job.status.value,
        "date_created": job.date_created,
        "date_started": job.date_started,
        "date_finished": job.date_finished,
        "runtime_details": job.runtime_details,
        "paths_out": job.paths_out,  # its paths are `str`s, and written as such
    }


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class StatusList(fields.String):
    """`running,queued`: a comma-separated set of statuses."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> frozenset[JobStatus]:
        text = super()._deserialize(value, attr, data, **kwargs)
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in STATUS_VALUES]
        if unknown:
            raise ValidationError(
                f"Unknown status {', '.join(map(repr, unknown))};"
                f" accepted: {', '.join(STATUS_VALUES)}"
            )
        return frozenset(JobStatus(name) for name in names)


STATUS_VALUES = [status.value for status in JobStatus]


class JobListQuerySchema(Schema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=0))
    status = StatusList(
        load_default=None,
        metadata={
            "description": f"Comma-separated statuses to show, of {', '.join(STATUS_VALUES)}"
        },
    )
    application = fields.String(
        load_default=None, metadata={"description": "Only jobs of this application"}
    )
    name = fields.String(
        load_default=None, metadata={"description": "Only jobs whose name starts with this"}
    )

    @post_load
    def with_filter(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        only = JobFilter(
            statuses=data.pop("status") or frozenset(),
            application=data.pop("application"),
            name_prefix=data.pop("name") or None,
        )
        return {**data, "only": only}


class JobIdSchema(Schema):
    job_id = fields.Integer(required=True)


class JobEventSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "Increases with every event"})
    time = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUS_VALUES))
    runtime_details = fields.String(allow_none=True)

    @pre_dump
    def from_event(self, event: JobEvent, **kwargs: Any) -> dict[str, Any]:
        return {
            "seq": event.seq,
            "job_id": event.job_id,
            "time": event.time,
            "status": event.status.value,
            "runtime_details": event.runtime_details,
        }


class UserJobEventSchema(JobEventSchema):
    """An event in the stream of all the caller's jobs, which says whose it is."""

    job_id = fields.Integer(required=True)


class EventStreamHeadersSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    last_event_id = fields.Integer(
        data_key="Last-Event-ID",
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Resume after this event (the `id` of the last one received)"},
    )
