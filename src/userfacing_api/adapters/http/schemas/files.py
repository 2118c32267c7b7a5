"""Request and response bodies of the Files endpoints."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import humanize
from marshmallow import EXCLUDE, Schema, fields, pre_dump, validate

from userfacing_api.domain.files import FileInfo, FileType


class FileInfoSchema(Schema):
    """One entry of the caller's tree as the contract shows it."""

    path = fields.String(
        required=True,
        metadata={"description": "Relative to the caller's tree; folders end in /"},
    )
    type = fields.String(required=True, validate=validate.OneOf([kind.value for kind in FileType]))
    size = fields.String(
        required=True,
        metadata={"description": "Human-readable decimal size (e.g. 1.2 kB); empty for folders"},
    )
    size_bytes = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Size in bytes; null for folders"}
    )
    modified = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Last modification, ISO 8601 in UTC; null for folders"},
    )

    @pre_dump
    def from_domain(self, info: FileInfo, **kwargs: Any) -> dict[str, Any]:
        return file_document(info)


def file_document(info: FileInfo) -> dict[str, Any]:
    """What `FileInfoSchema().dump(info)` gives (every value already plain), built directly."""
    if info.is_dir:
        return {
            "path": f"{info.path}/",
            "type": info.type.value,
            "size": "",
            "size_bytes": None,
            "modified": None,
        }
    size = info.size or 0
    modified = info.modified
    return {
        "path": info.path,
        "type": info.type.value,
        "size": humanize.naturalsize(size),
        "size_bytes": size,
        "modified": None if modified is None else modified.astimezone(UTC).isoformat(),
    }


class ListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    show_dirs = fields.Boolean(
        load_default=True, metadata={"description": "Include folders in the listing"}
    )
    recursive = fields.Boolean(
        load_default=False, metadata={"description": "List every level below the folder"}
    )


class RenameSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    path = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The new path, relative to the caller's tree"},
    )


class FileHTTPRequestSchema(Schema):
    """A request the client sends itself to move bytes (presigned or this API's own URL)."""

    method = fields.String(required=True, validate=validate.OneOf(["get", "post", "put"]))
    url = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    data = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Form fields to send along with the file (uploads)"},
    )
