"""Reading 422 answers, which always have the original service's (FastAPI's) shape."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse

SOURCES = ("body", "query", "path", "header", "form")


async def validation_errors(response: ClientResponse) -> list[tuple[list[Any], str]]:
    """The `(loc, msg)` of each entry of a 422's `detail`, after checking its shape.

    `{"detail": [{"loc": [where, field, ...], "msg": str, "type": str}, ...]}`, as the web
    frontend renders it with `detail.map(e => e.loc / e.msg)`.
    """
    assert response.status == 422, await response.text()
    body = await response.json()
    assert set(body) == {"detail"}
    detail = body["detail"]
    assert isinstance(detail, list), detail
    assert detail
    for entry in detail:
        assert set(entry) == {"loc", "msg", "type"}, entry
        assert isinstance(entry["loc"], list), entry
        assert entry["loc"][0] in SOURCES, entry
        assert all(isinstance(part, str | int) for part in entry["loc"]), entry
        assert isinstance(entry["msg"], str), entry
        assert entry["msg"], entry
        assert isinstance(entry["type"], str), entry
        assert entry["type"], entry
    return [(entry["loc"], entry["msg"]) for entry in detail]
