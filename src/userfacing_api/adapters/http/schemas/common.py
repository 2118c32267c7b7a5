"""Schemas shared by several endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    detail = fields.Raw(required=True, metadata={"description": "What went wrong"})


class HealthSchema(Schema):
    status = fields.String(required=True)
