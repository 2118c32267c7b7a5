"""Request and response bodies of the upload session endpoints."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_dump, validate

from userfacing_api.domain.uploads import UploadProgress


class UploadCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    path = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The file to create, e.g. data/exp1/movie.tif"},
    )
    size = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "The file's exact size in bytes"},
    )


class UploadSchema(Schema):
    upload_id = fields.String(required=True)
    path = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes in the whole file"})
    part_size = fields.Integer(
        required=True, metadata={"description": "Bytes in every part but the last"}
    )
    part_count = fields.Integer(required=True)
    parts_done = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "Numbers (1-based) of the parts already stored"},
    )
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601 in UTC"})

    @pre_dump
    def from_domain(self, progress: UploadProgress, **kwargs: Any) -> dict[str, Any]:
        session = progress.session
        return {
            "upload_id": session.upload_id,
            "path": session.path,
            "size": session.plan.size,
            "part_size": session.plan.part_size,
            "part_count": session.plan.part_count,
            "parts_done": progress.parts_done,
            "expires_at": session.expires_at.astimezone(UTC).isoformat(),
        }
