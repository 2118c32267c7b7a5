"""The one place where domain errors become HTTP statuses with `{"detail": ...}` bodies."""

from __future__ import annotations

from typing import Any, NoReturn

from aiohttp import web

from userfacing_api.domain import errors

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.LimitReached: 429,
    errors.InvalidInput: 422,
    errors.BadRequest: 400,
    errors.NotAllowed: 405,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.UpstreamRejected: 502,
    errors.Unavailable: 503,
    errors.StorageFull: 507,
}


def status_of(error: errors.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)


def raise_validation_error(
    error: Any,
    request: web.Request,
    schema: Any,
    error_status_code: int | None = None,
    error_headers: dict[str, str] | None = None,
) -> NoReturn:
    """aiohttp-apispec calls this for a body or query that fails its schema."""
    messages = getattr(error, "messages", None) or str(error)
    raise ValidationFailed(messages)


class ValidationFailed(Exception):
    """A request did not match its schema (422 with the field messages as detail)."""

    def __init__(self, messages: Any) -> None:
        super().__init__("validation failed")
        self.messages = messages
