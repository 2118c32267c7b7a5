"""Request validation by the handlers' declared schemas, with fast paths for the hot ones.

aiohttp-apispec's middleware runs every request through webargs and marshmallow,
which costs more than the rest of a one-row read. For the schemas of the busiest
endpoints, a loader written here accepts only input the schema would accept
with the very same result (plain digits for an integer, a JSON object of the
expected types); anything else (wrong, odd or merely unusual) goes to the full
webargs parse, which gives the usual answer and error messages. So every check
still happens; the common case is only cheaper.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, fields

from userfacing_api.adapters.http.request_parser import holds_lone_surrogate
from userfacing_api.adapters.http.schemas.files import ListQuerySchema
from userfacing_api.adapters.http.schemas.internal import STATUSES, JobStatusUpdateSchema
from userfacing_api.adapters.http.schemas.jobs import JobIdSchema, JobListQuerySchema
from userfacing_api.domain.jobs import JobFilter

FastLoader = Callable[[web.Request], Awaitable[dict[str, Any] | None]]
"""The schema's load result, or None to let the full parser decide."""

# aiohttp-apispec's names for its parser and for the merged result on the request.
_PARSER_KEY = "_apispec_parser"
_DATA_NAME_KEY = "_apispec_request_data_name"
# Up to 18 digits always fit a signed 64-bit integer; longer numbers take the full path.
_MAX_DIGITS = 18
_STATUSES = frozenset(STATUSES)
_JOB_FILTERS = ("status", "application", "name")
_NO_FILTER = JobFilter(statuses=frozenset(), application=None, name_prefix=None)
_TRUTHY = frozenset(fields.Boolean.truthy)
_FALSY = frozenset(fields.Boolean.falsy)


def _plain_int(text: str | None) -> int | None:
    if text is not None and 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


async def _job_id(request: web.Request) -> dict[str, Any] | None:
    job_id = _plain_int(request.match_info.get("job_id"))
    return None if job_id is None else {"job_id": job_id}


def _query_ints(query: Mapping[str, str], defaults: dict[str, int]) -> dict[str, Any] | None:
    loaded: dict[str, Any] = {}
    for name, default in defaults.items():
        text = query.get(name)
        value = default if text is None else _plain_int(text)
        if value is None:
            return None
        loaded[name] = value
    return loaded


async def _job_list_query(request: web.Request) -> dict[str, Any] | None:
    """Paging alone; any filter (`status`, `application`, `name`) takes the full parse."""
    query = request.query
    if any(name in query for name in _JOB_FILTERS):
        return None
    loaded = _query_ints(query, {"offset": 0, "limit": 100})
    return None if loaded is None else {**loaded, "only": _NO_FILTER}


async def _list_query(request: web.Request) -> dict[str, Any] | None:
    loaded = {}
    for name in ("show_dirs", "recursive"):
        text = request.query.get(name)
        if text is None:
            loaded[name] = name == "show_dirs"
        elif text in _TRUTHY:
            loaded[name] = True
        elif text in _FALSY:
            loaded[name] = False
        else:
            return None
    return loaded


async def _job_status_body(request: web.Request) -> dict[str, Any] | None:
    if request.content_type != "application/json" or request.charset not in (None, "utf-8"):
        return None
    try:
        document = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    job_id = document.get("job_id")
    status = document.get("status")
    details = document.get("runtime_details")
    if (
        type(job_id) is not int
        or type(status) is not str
        or status not in _STATUSES
        or not (details is None or type(details) is str)
        or holds_lone_surrogate(details)
    ):
        return None
    return {"job_id": job_id, "status": status, "runtime_details": details}


FAST_LOADERS: dict[type[Schema], FastLoader] = {
    JobIdSchema: _job_id,
    JobListQuerySchema: _job_list_query,
    ListQuerySchema: _list_query,
    JobStatusUpdateSchema: _job_status_body,
}


def declared_schemas(request: web.Request) -> list[dict[str, Any]] | None:
    """The schemas the request's handler declares (aiohttp-apispec's decorators), if any."""
    schemas: list[dict[str, Any]] | None = getattr(request.match_info.handler, "__schemas__", None)
    return schemas


async def validate(request: web.Request, schemas: list[dict[str, Any]]) -> None:
    """What aiohttp-apispec's `validation_middleware` does, fast loaders first.

    Each declared schema's result goes under its `put_into` key (`json`,
    `querystring`, `match_info`, ...), as the handlers expect.
    """
    result: dict[str, Any] = {}
    for declared in schemas:
        schema = declared["schema"]
        fast = FAST_LOADERS.get(type(schema))
        data = None if fast is None else await fast(request)
        if data is None:
            data = await request.app[_PARSER_KEY].parse(
                schema, request, locations=declared["locations"]
            )
        if declared["put_into"]:
            request[declared["put_into"]] = data
        elif data:
            result.update(data)
    request[request.app[_DATA_NAME_KEY]] = result
