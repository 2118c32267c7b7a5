"""Every endpoint that can answer 422 answers it in the original's (FastAPI's) list shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.http.validation import validation_errors

Client = TestClient[web.Request, web.Application]

BACKSLASH = "a%5Cb"
"""A path segment with a backslash, which no path may hold."""
UPLOAD_ID = "0" * 32
"""Well-formed, so that only the part number is wrong."""

# (method, path as documented) -> (request path, request keyword arguments, expected loc)
UNPROCESSABLE: dict[tuple[str, str], tuple[str, dict[str, Any], list[Any]]] = {
    ("post", "/user"): ("/user", {"data": {"username": "x@example.org"}}, ["form", "password"]),
    ("post", "/token"): ("/token", {"data": {"username": "x@example.org"}}, ["form", "password"]),
    ("post", "/login"): ("/login", {"data": {"password": "x"}}, ["form", "username"]),
    ("get", "/files/{path}/download"): (f"/files/data/{BACKSLASH}/download", {}, ["path", "path"]),
    ("get", "/files/{path}/url"): (f"/files/data/{BACKSLASH}/url", {}, ["path", "path"]),
    ("get", "/files/{path}"): ("/files/data/?show_dirs=perhaps", {}, ["query", "show_dirs"]),
    ("put", "/files/{path}"): ("/files/data/", {"json": {"path": 5}}, ["body", "path"]),
    ("delete", "/files/{path}"): (f"/files/data/{BACKSLASH}", {}, ["path", "path"]),
    ("post", "/files/{type}/{dir}/upload"): ("/files/data/x/upload", {}, ["form", "file"]),
    ("post", "/files/{type}/upload"): (
        "/files/data/upload",
        {"data": {"f": "x"}},
        ["form", "file"],
    ),
    ("post", "/files/{type}/{dir}/url"): ("/files/log/x/url", {}, ["path", "type"]),
    ("post", "/files/{type}/{dir}/"): (f"/files/data/{BACKSLASH}/", {}, ["path", "dir"]),
    ("post", "/uploads"): ("/uploads", {"json": {"path": "data/a", "size": -1}}, ["body", "size"]),
    ("get", "/uploads/{upload_id}"): ("/uploads/nope", {}, ["path", "upload_id"]),
    ("delete", "/uploads/{upload_id}"): ("/uploads/nope", {}, ["path", "upload_id"]),
    ("post", "/uploads/{upload_id}/complete"): (
        "/uploads/nope/complete",
        {},
        ["path", "upload_id"],
    ),
    ("post", "/uploads/{upload_id}/parts/{number}"): (
        f"/uploads/{UPLOAD_ID}/parts/first",
        {},
        ["path", "number"],
    ),
    ("put", "/uploads/{upload_id}/parts/{number}"): (
        f"/uploads/{UPLOAD_ID}/parts/first",
        {},
        ["path", "number"],
    ),
    ("post", "/jobs"): ("/jobs", {"json": {"job_name": []}}, ["body", "job_name"]),
    ("get", "/jobs"): ("/jobs?offset=-1", {}, ["query", "offset"]),
    ("get", "/jobs/{job_id}"): ("/jobs/first", {}, ["path", "job_id"]),
    ("delete", "/jobs/{job_id}"): ("/jobs/first", {}, ["path", "job_id"]),
    ("post", "/jobs/{job_id}/cancel"): ("/jobs/first/cancel", {}, ["path", "job_id"]),
    ("get", "/jobs/{job_id}/events"): ("/jobs/first/events", {}, ["path", "job_id"]),
    ("get", "/jobs/events"): (
        "/jobs/events",
        {"headers": {"Last-Event-ID": "latest", "Accept": "text/event-stream"}},
        ["header", "Last-Event-ID"],
    ),
    ("get", "/jobs?status=maybe"): ("/jobs?status=maybe", {}, ["query", "status"]),
    ("put", "/_job_status"): ("/_job_status", {"json": {"status": "running"}}, ["body", "job_id"]),
}


async def test_every_operation_documenting_422_is_exercised_here(client: Client) -> None:
    spec = await (await client.get("/docs/swagger.json")).json()

    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    }

    assert documented == {key for key in UNPROCESSABLE if "?" not in key[1]}


@pytest.mark.parametrize("operation", list(UNPROCESSABLE), ids="{0[0]} {0[1]}".format)
async def test_each_422_has_the_list_shape(
    client: Client, user_headers: TokenFactory, operation: tuple[str, str]
) -> None:
    method, _ = operation
    path, declared, loc = UNPROCESSABLE[operation]
    arguments = dict(declared)
    headers = {**await user_headers(), "x-api-key": "internal-test-key"}
    headers.update(arguments.pop("headers", {}))

    response = await client.request(method.upper(), path, headers=headers, **arguments)

    errors = await validation_errors(response)
    assert loc in [place for place, _ in errors], errors
