"""Schemas shared by several endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    detail = fields.String(required=True, metadata={"description": "What went wrong"})


class ValidationProblemSchema(Schema):
    """One faulty value of a 422, as the original service (FastAPI) reports it."""

    loc = fields.List(
        fields.Raw(),
        required=True,
        metadata={
            "description": "Where: body, query, path, header or form, then the field's keys "
            "and list indexes"
        },
    )
    msg = fields.String(required=True, metadata={"description": "What is wrong with it"})
    type = fields.String(required=True, metadata={"description": "E.g. missing, value_error"})


class ValidationErrorSchema(Schema):
    detail = fields.List(fields.Nested(ValidationProblemSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
