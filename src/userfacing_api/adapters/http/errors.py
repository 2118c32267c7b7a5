"""The one place where domain errors become HTTP statuses with `{"detail": ...}` bodies.

A 422 always has the list `detail` of the original service (FastAPI), which the
web frontend renders entry by entry: `[{"loc": [where, field, ...], "msg", "type"}]`,
`where` being `body`, `query`, `path`, `header` or `form`. Every other error has
a string `detail`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

from aiohttp import web

from userfacing_api.adapters.http.responses import json_response
from userfacing_api.domain import errors

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.LimitReached: 429,
    errors.BadRequest: 400,
    errors.PreconditionFailed: 412,
    errors.TooLarge: 413,
    errors.Incomplete: 409,
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
    return json_response({"detail": detail}, status=status, headers=headers)


Loc = tuple[str | int, ...]
F = TypeVar("F", bound=Callable[..., object])

_INVALID_INPUT_AT = "__userfacing_invalid_input_at__"
_UNNAMED = ""

# Where webargs found a value, in the words of the contract.
_WHERE = {
    "json": "body",
    "form": "form",
    "files": "form",
    "querystring": "query",
    "query": "query",
    "match_info": "path",
    "headers": "header",
    "cookies": "cookie",
}
_MISSING = "Missing data for required field."
_SCHEMA_LEVEL = "_schema"


def invalid_input_at(unnamed: Loc | None = None, **fields: Loc) -> Callable[[F], F]:
    """Where the values a handler passes to its use case come from in the request.

    `InvalidInput.field` starts with a use case argument; the argument is looked up
    here (`new_path=("body", "path")`). `unnamed` locates errors that name no field.
    Without a declaration a named field is in the body and an unnamed error is
    about the route's last path parameter.
    """
    places: dict[str, Loc] = dict(fields)
    if unnamed is not None:
        places[_UNNAMED] = unnamed

    def declare(handler: F) -> F:
        setattr(handler, _INVALID_INPUT_AT, places)
        return handler

    return declare


def invalid_input_detail(request: web.Request, error: errors.InvalidInput) -> list[dict[str, Any]]:
    """The 422 `detail` of a use case's `InvalidInput`."""
    places: Mapping[str, Loc] = getattr(request.match_info.handler, _INVALID_INPUT_AT, {})
    field = error.field
    if field and isinstance(field[0], str) and field[0] in places:
        loc: Loc = (*places[field[0]], *field[1:])
    elif field:
        loc = ("body", *field)
    elif _UNNAMED in places:
        loc = places[_UNNAMED]
    elif request.match_info:
        loc = ("path", list(request.match_info)[-1])
    else:
        loc = ("body",)
    return [_entry(loc, error.detail, "value_error")]


def plain_detail(where: str, message: str) -> list[dict[str, Any]]:
    """A 422 `detail` for a failure that belongs to no single field (`where`: body, form, ...)."""
    return [_entry((where,), message, "value_error")]


def schema_errors_detail(messages: Any, where: str) -> list[dict[str, Any]]:
    """The 422 `detail` of marshmallow messages (nested by field) about a part of the request."""
    return _flatten(messages, (where,))


def _flatten(messages: Any, loc: Loc) -> list[dict[str, Any]]:
    if isinstance(messages, Mapping):
        return [
            entry
            for key, nested in messages.items()
            for entry in _flatten(nested, loc if key == _SCHEMA_LEVEL else (*loc, key))
        ]
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        return [entry for message in messages for entry in _flatten(message, loc)]
    if messages == _MISSING:
        return [_entry(loc, "Field required", "missing")]
    return [_entry(loc, str(messages), "value_error")]


def _entry(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


def raise_validation_error(
    error: Any,
    request: web.Request,
    schema: Any,
    error_status_code: int | None = None,
    error_headers: dict[str, str] | None = None,
) -> NoReturn:
    """aiohttp-apispec calls this for a body or query that fails its schema."""
    messages = getattr(error, "messages", None) or str(error)
    raise ValidationFailed(schema_errors_detail(messages, _where_schema_reads(request, schema)))


def _where_schema_reads(request: web.Request, schema: Any) -> str:
    """The request part that aiohttp-apispec validated with `schema` (`body`, `query`, ...)."""
    for declared in getattr(request.match_info.handler, "__schemas__", ()):
        if declared["schema"] is schema and declared["locations"]:
            return _WHERE.get(declared["locations"][0], "body")
    return "body"


class ValidationFailed(Exception):
    """A request did not match its schema (422 with the contract's list as detail)."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self.detail = detail
