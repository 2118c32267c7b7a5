"""Bodies of the internal endpoint the worker-facing API calls."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from userfacing_api.domain.jobs import JobStatus

STATUSES = [status.value for status in JobStatus]


class JobStatusUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    job_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    runtime_details = fields.String(allow_none=True, load_default=None)
