"""Helpers shared by the Files endpoint tests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, FormData, web
from aiohttp.test_utils import TestClient

from tests.http.jobs_helpers import user_id_of
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]

POLL_DEADLINE = 5.0


async def upload(
    client: Client, headers: dict[str, str], folder: str, name: str, content: bytes
) -> ClientResponse:
    """`POST /files/<folder>/upload` with `content` as the form's `file`, named as browsers do."""
    form = FormData(quote_fields=False)
    form.add_field("file", io.BytesIO(content), filename=name)
    return await client.post(f"/files/{folder}/upload", data=form, headers=headers)


async def uploaded(
    client: Client, headers: dict[str, str], folder: str, name: str, content: bytes
) -> dict[str, Any]:
    response = await upload(client, headers, folder, name, content)
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def folder_info(path: str) -> dict[str, Any]:
    """A folder as every FileInfo answer shows it."""
    return {"path": path, "type": "directory", "size": "", "size_bytes": None, "modified": None}


def file_info(path: str, size: str, size_bytes: int) -> dict[str, Any]:
    """A file as FileInfo answers show it, but for `modified`, which `timeless` drops."""
    return {"path": path, "type": "file", "size": size, "size_bytes": size_bytes}


def timeless(info: dict[str, Any]) -> dict[str, Any]:
    """`info` without `modified`, once it is checked to be ISO 8601 in UTC (files only)."""
    modified = info["modified"]
    assert datetime.fromisoformat(modified).utcoffset() == timedelta(0), modified
    return {name: value for name, value in info.items() if name != "modified"}


def user_root(settings: Settings, headers: dict[str, str]) -> Path:
    """The caller's folder on disk (named after the token's `cognito:username`)."""
    return Path(settings.storage.user_data_root_path).resolve() / user_id_of(headers)


async def raw_request(
    client: Client,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, bytes]:
    """Send `target` exactly as written (a client library would normalise `..` or `%2e`).

    Returns the status and the body of a response with a `Content-Length`.
    """
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {client.host}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, content = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, content


async def eventually(condition: Callable[[], bool], *, what: str) -> None:
    """Poll `condition()` until it is true, failing after `POLL_DEADLINE` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_DEADLINE
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def a_rename_onto_a_file_replaces_it_unless_told_not_to(
    client: Client, headers: dict[str, str]
) -> None:
    """The original's behaviour, and `If-None-Match: *` asking for no-clobber (412)."""
    await uploaded(client, headers, "data/", "a.txt", b"new a")
    await uploaded(client, headers, "data/", "b.txt", b"old b")
    await uploaded(client, headers, "data/", "c.txt", b"c")

    kept = await client.put(
        "/files/data/c.txt",
        json={"path": "data/b.txt"},
        headers={**headers, "If-None-Match": "*"},
    )
    replaced = await client.put("/files/data/a.txt", json={"path": "data/b.txt"}, headers=headers)

    assert kept.status == 412, await kept.text()
    assert isinstance((await kept.json())["detail"], str)
    assert replaced.status == 200, await replaced.text()
    assert timeless(await replaced.json()) == file_info("data/b.txt", "5 Bytes", 5)
    download = await client.get("/files/data/b.txt/download", headers=headers)
    assert await download.read() == b"new a"
    listed = await client.get("/files/data/", headers=headers)
    assert [entry["path"] for entry in await listed.json()] == ["data/b.txt", "data/c.txt"]
    moved_to_free_path = await client.put(
        "/files/data/c.txt",
        json={"path": "data/d.txt"},
        headers={**headers, "If-None-Match": "*"},
    )
    assert moved_to_free_path.status == 200


async def json_of(response: ClientResponse, status: int) -> Any:
    """The JSON body of an answer that must have `status`."""
    assert response.status == status, await response.text()
    return await response.json()
