"""JSON responses encoded with orjson (several times faster than the standard library)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web
from multidict import CIMultiDict

_JSON_TYPE = ("Content-Type", "application/json")


def json_response(
    document: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_bytes_response(orjson.dumps(document), status=status, headers=headers)


def json_bytes_response(
    body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer already encoded.

    aiohttp takes headers handed over as a `CIMultiDict` as they are, and does not
    parse a content type given among them: on the busiest endpoints, that is a third
    of the cost of the answer object.
    """
    answer_headers = CIMultiDict((_JSON_TYPE,))
    if headers:
        answer_headers.extend(headers)
    return web.Response(body=body, status=status, headers=answer_headers)
