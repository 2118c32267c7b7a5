"""Confinement of every Files request to the caller's own tree."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client, eventually, raw_request, upload, uploaded, user_root
from userfacing_api.adapters.storage.local import is_temp_name
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.settings import Settings

SECRET = b"outside the user trees"

DOWNLOAD_ATTEMPTS = [
    "/files/../../sentinel.txt/download",
    "/files/data/../../../sentinel.txt/download",
    "/files/%2e%2e/%2e%2e/sentinel.txt/download",
    "/files/%2E%2E/%2E%2E/sentinel.txt/download",
    "/files/data%2F..%2F..%2F..%2Fsentinel.txt/download",
    "/files/data/%2F..%2F..%2F..%2Fsentinel.txt/download",
    "/files/data/..%5C..%5C..%5Csentinel.txt/download",
    "/files/data\\..\\..\\..\\sentinel.txt/download",
    "/files/data/sentinel.txt%00/download",
    "/files/data/%00/../../../sentinel.txt/download",
    "/files/{absolute}/download",
    "/files/%2F{absolute}/download",
    "/files/%2e%2e/%2e%2e/sentinel.txt/url",
    "/files/%2e%2e/%2e%2e/",
    "/files/%2e%2e/%2e%2e/download",
]


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    """A file beside the users' root folder that no request may read or change."""
    path = tmp_path / "sentinel.txt"
    path.write_bytes(SECRET)
    return path


def outside_state(tmp_path: Path) -> tuple[list[str], bytes]:
    return sorted(os.listdir(tmp_path)), (tmp_path / "sentinel.txt").read_bytes()


def assert_refused(status: int, body: bytes) -> None:
    assert status in (404, 422), body
    assert "detail" in json.loads(body)
    assert SECRET not in body


@pytest.mark.parametrize("target", DOWNLOAD_ATTEMPTS)
async def test_reads_outside_the_tree_are_refused(
    client: Client, user_headers: TokenFactory, sentinel: Path, target: str
) -> None:
    headers = await user_headers()
    absolute = str(sentinel).lstrip("/")

    status, body = await raw_request(client, "GET", target.format(absolute=absolute), headers)

    assert_refused(status, body)


async def test_writes_outside_the_tree_are_refused(
    client: Client, user_headers: TokenFactory, sentinel: Path, tmp_path: Path
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "mine.txt", b"mine")
    before = outside_state(tmp_path)
    boundary = "xyz"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sentinel.txt"\r\n'
        f"\r\noverwritten\r\n--{boundary}--\r\n"
    ).encode()
    form_headers = {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    json_headers = {**headers, "Content-Type": "application/json"}

    attempts = [
        await raw_request(
            client, "POST", "/files/data/%2e%2e/%2e%2e/%2e%2e/upload", form_headers, form
        ),
        await raw_request(client, "POST", "/files/data/..%2F..%2F..%2F/upload", form_headers, form),
        await raw_request(client, "POST", "/files/%2e%2e/x/upload", form_headers, form),
        await raw_request(client, "POST", "/files/data/%2e%2e/%2e%2e/%2e%2e/evil/", headers),
        await raw_request(client, "DELETE", "/files/%2e%2e/%2e%2e/sentinel.txt", headers),
        await raw_request(client, "DELETE", "/files/data%2F..%2F..%2F..%2Fsentinel.txt", headers),
        await raw_request(
            client, "PUT", "/files/%2e%2e/%2e%2e/sentinel.txt", json_headers, b'{"path": "data/x"}'
        ),
        await raw_request(
            client,
            "PUT",
            "/files/data/mine.txt",
            json_headers,
            b'{"path": "data/../../../sentinel.txt"}',
        ),
        await raw_request(
            client, "PUT", "/files/data/mine.txt", json_headers, b'{"path": "data/a\\u0000b"}'
        ),
    ]
    escaping_name = await upload(client, headers, "data/", "../../../sentinel.txt", b"overwritten")
    backslash_name = await upload(client, headers, "data/", "..\\..\\sentinel.txt", b"overwritten")

    for status, body in attempts:
        assert_refused(status, body)
    assert escaping_name.status == 422
    assert backslash_name.status == 422
    assert outside_state(tmp_path) == before
    listing = await client.get("/files/data/?recursive=true", headers=headers)
    assert [entry["path"] for entry in await listing.json()] == ["data/mine.txt"]


async def test_a_symlink_out_of_the_tree_leads_nowhere(
    client: Client,
    user_headers: TokenFactory,
    settings: Settings,
    sentinel: Path,
    tmp_path: Path,
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "own.txt", b"own")
    data = user_root(settings, headers) / "data"
    (data / "link.txt").symlink_to(sentinel)
    (data / "outside").symlink_to(tmp_path, target_is_directory=True)
    before = outside_state(tmp_path)

    file_link = await client.get("/files/data/link.txt/download", headers=headers)
    through_folder = await client.get("/files/data/outside/sentinel.txt/download", headers=headers)
    folder_zip = await client.get("/files/data/download", headers=headers)
    listing = await client.get("/files/data/outside/", headers=headers)
    written = await upload(client, headers, "data/outside", "sentinel.txt", b"overwritten")
    deleted = await client.delete("/files/data/outside/sentinel.txt", headers=headers)

    assert file_link.status == 404
    assert SECRET not in await file_link.read()
    assert through_folder.status == 404
    assert folder_zip.status == 200
    assert SECRET not in await folder_zip.read()
    assert listing.status == 404
    assert written.status in (404, 422)
    assert deleted.status == 204
    assert outside_state(tmp_path) == before


async def test_users_never_reach_each_others_files(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    alice = await user_headers("alice@example.org")
    bob = await user_headers("bob@example.org")
    await uploaded(client, alice, "data/exp", "secret.txt", b"alice's secret")
    alice_id = user_root(settings, alice).name

    bob_sees = [
        await client.get("/files/data/exp/", headers=bob),
        await client.get("/files/data/exp/secret.txt/download", headers=bob),
        await client.get("/files/data/exp/secret.txt/url", headers=bob),
        await client.put("/files/data/exp/secret.txt", json={"path": "data/mine.txt"}, headers=bob),
    ]
    bob_lists = await client.get("/files/data/?recursive=true", headers=bob)
    bob_zip = await client.get("/files//download", headers=bob)
    bob_deletes = await client.delete("/files/data/exp", headers=bob)
    bob_empties_root = await client.delete("/files/", headers=bob)
    across = [
        await raw_request(
            client, "GET", f"/files/%2e%2e/{alice_id}/data/exp/secret.txt/download", bob
        ),
        await raw_request(client, "GET", f"/files/..%2F{alice_id}%2Fdata%2Fexp/", bob),
        await raw_request(client, "DELETE", f"/files/%2e%2e/{alice_id}/data", bob),
    ]

    assert [response.status for response in bob_sees] == [404, 404, 404, 404]
    assert await bob_lists.json() == []
    assert b"secret" not in await bob_zip.read()
    assert bob_deletes.status == 204
    assert bob_empties_root.status == 204
    for status, body in across:
        assert_refused(status, body)
    still_there = await client.get("/files/data/exp/secret.txt/download", headers=alice)
    assert await still_there.read() == b"alice's secret"


async def cut_off_upload(host: str, port: int, headers: dict[str, str], folder: Path) -> None:
    """Start uploading `data/cut/big.bin`, wait until it is being stored, then hang up."""
    boundary = "cutoff"
    part_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    request_head = "\r\n".join(
        [
            "POST /files/data/cut/upload HTTP/1.1",
            f"Host: {host}",
            f"Authorization: {headers['Authorization']}",
            f"Content-Type: multipart/form-data; boundary={boundary}",
            f"Content-Length: {len(part_head) + 10_000_000}",
            "",
            "",
        ]
    ).encode()
    _, writer = await asyncio.open_connection(host, port)
    writer.write(request_head + part_head + b"x" * 1_000_000)
    await writer.drain()
    await eventually(lambda: bool(partial_uploads(folder)), what="the upload to start")
    writer.close()
    await writer.wait_closed()


def partial_uploads(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return [name for name in os.listdir(folder) if is_temp_name(name)]


async def test_an_upload_cut_off_midway_leaves_nothing_behind(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    folder = user_root(settings, headers) / "data" / "cut"

    assert client.port is not None
    await cut_off_upload(client.host, client.port, headers, folder)
    await eventually(lambda: not partial_uploads(folder), what="the partial upload to go")

    assert not (folder / "big.bin").exists()
    listing = await client.get("/files/data/cut/", headers=headers)
    assert await listing.json() == []


@pytest.fixture
async def served(settings: Settings, identity: Identity | None) -> AsyncIterator[tuple[str, int]]:
    """The application served as in production, where a lost client does not cancel handlers."""
    runner = web.AppRunner(create_app(settings, identity=identity), handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield host, port
    await runner.cleanup()


async def test_an_upload_cut_off_midway_leaves_nothing_behind_in_production_mode(
    served: tuple[str, int], settings: Settings
) -> None:
    host, port = served
    form = {"username": "carol@example.org", "password": "Correct-horse-9"}
    async with ClientSession(f"http://{host}:{port}") as session:
        created = await session.post("/user", data=form)
        issued = await session.post("/token", data=form)
        headers = {"Authorization": f"Bearer {(await issued.json())['id_token']}"}
        folder = user_root(settings, headers) / "data" / "cut"

        await cut_off_upload(host, port, headers, folder)
        await eventually(lambda: not partial_uploads(folder), what="the partial upload to go")

        assert created.status == 201
        assert not (folder / "big.bin").exists()
        listing = await session.get("/files/data/cut/", headers=headers)
        assert await listing.json() == []
