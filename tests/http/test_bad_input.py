"""Malformed requests found by fuzzing: each is a 4xx with a `{"detail": ...}` body, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client, upload, uploaded, user_root
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of, with_files_down
from tests.http.validation import validation_errors
from userfacing_api.settings import Settings

JSON = {"Content-Type": "application/json"}
KEY = {"x-api-key": "internal-test-key"}
CREDENTIALS = "username=bob&password=Correct-horse-9"
# 200 characters, 400 bytes in UTF-8: within a character count, beyond any file system's name.
WIDE_NAME = "é" * 200


async def detail_of(response: ClientResponse, status: int) -> Any:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"detail"}
    return body["detail"]


@pytest.mark.parametrize("endpoint", ["/user", "/token", "/login"])
async def test_a_credentials_form_declared_multipart_without_a_boundary_is_a_400(
    client: Client, endpoint: str
) -> None:
    response = await client.post(
        endpoint, data=CREDENTIALS, headers={"Content-Type": "multipart/form-data"}
    )

    assert await detail_of(response, 400) == "Malformed form body"


@pytest.mark.parametrize("endpoint", ["/user", "/token", "/login"])
async def test_a_credentials_form_with_unparsable_part_headers_is_a_400(
    client: Client, endpoint: str
) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="4n\x04"\r\n\r\nx\r\n--b--\r\n'

    response = await client.post(
        endpoint, data=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )

    assert await detail_of(response, 400) == "Malformed form body"


@pytest.mark.parametrize(
    "body",
    [b"username=\xff\xfe&password=Correct-horse-9", b"username=\xed\xb3\x80&password=x"],
    ids=["invalid byte", "encoded surrogate"],
)
async def test_a_credentials_form_that_is_not_utf8_is_a_400(client: Client, body: bytes) -> None:
    response = await client.post(
        "/token", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert await detail_of(response, 400) == "Malformed form body"


async def test_an_upload_with_unparsable_part_headers_is_a_400_and_stores_nothing(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    body = b"--b\r\n-666--b--\r\n"

    response = await client.post(
        "/files/data/exp/upload",
        data=body,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
    )

    assert "malformed" in await detail_of(response, 400)
    assert not (user_root(settings, headers) / "data" / "exp").exists()


async def test_an_upload_whose_file_name_is_not_utf8_is_refused_and_stores_nothing(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="\xff\xfe.tif"\r\n\r\nx'
    body += b"\r\n--b--\r\n"

    response = await client.post(
        "/files/data/exp/upload",
        data=body,
        headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
    )

    assert await validation_errors(response) == [
        (["form", "file"], "Path must be valid UTF-8 text")
    ]
    assert list((user_root(settings, headers) / "data").iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"job_name": ' + b"1" * 5000 + b"}",
    ],
    ids=["nested deeper than the stack", "number too long to convert"],
)
async def test_a_json_body_python_cannot_decode_is_a_400(
    client: Client, user_headers: TokenFactory, body: bytes
) -> None:
    headers = await user_headers()

    response = await client.post("/jobs", data=body, headers={**headers, **JSON})

    assert await detail_of(response, 400) == "Invalid JSON body"


async def test_a_json_body_in_an_unknown_charset_is_a_400(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.post(
        "/jobs",
        data=b'{"job_name": "x"}',
        headers={**headers, "Content-Type": "application/json; charset=bogus"},
    )

    assert await detail_of(response, 400) == "Invalid JSON body"


async def test_a_job_name_with_half_a_surrogate_pair_is_a_400_and_no_job(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    await UserFiles(settings).put_inputs(user_id_of(headers))
    body = b'{"job_name": "run\\ud800", ' + _job_fields()

    response = await client.post("/jobs", data=body, headers={**headers, **JSON})

    assert "surrogate" in await detail_of(response, 400)
    listed = await client.get("/jobs", headers=headers)
    assert await listed.json() == []


async def test_a_status_report_with_half_a_surrogate_pair_is_a_400_and_changes_nothing(
    client: Client, user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    await UserFiles(settings).put_inputs(user_id_of(headers))
    created = await client.post("/jobs", json=job_body(), headers=headers)
    job_id = (await created.json())["id"]
    body = f'{{"job_id": {job_id}, "status": "running", "runtime_details": "\\udc80"}}'

    response = await client.put("/_job_status", data=body, headers={**KEY, **JSON})

    assert "surrogate" in await detail_of(response, 400)
    job = await (await client.get(f"/jobs/{job_id}", headers=headers)).json()
    assert (job["status"], job["runtime_details"]) == ("queued", None)


async def test_a_rename_to_a_path_with_half_a_surrogate_pair_is_a_400(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp", "a.tif", b"image")

    response = await client.put(
        "/files/data/exp/a.tif", data=b'{"path": "data/\\udc80"}', headers={**headers, **JSON}
    )

    assert "surrogate" in await detail_of(response, 400)
    assert (await client.get("/files/data/exp/a.tif/download", headers=headers)).status == 200


async def test_an_escaped_surrogate_pair_in_json_is_the_character_it_encodes(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp", "a.tif", b"image")

    response = await client.put(
        "/files/data/exp/a.tif",
        data=b'{"path": "data/exp/\\ud83d\\ude00.tif"}',
        headers={**headers, **JSON},
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["path"] == "data/exp/\U0001f600.tif"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/files/data/{WIDE_NAME}"),
        ("GET", f"/files/data/{WIDE_NAME}/download"),
        ("GET", f"/files/data/{WIDE_NAME}/url"),
        ("DELETE", f"/files/data/{WIDE_NAME}"),
        ("POST", f"/files/data/{WIDE_NAME}/"),
        ("POST", f"/files/data/{WIDE_NAME}/url"),
    ],
)
async def test_a_path_segment_longer_than_255_utf8_bytes_is_a_422_not_a_storage_failure(
    client: Client, user_headers: TokenFactory, method: str, path: str
) -> None:
    headers = await user_headers()

    response = await client.request(method, path, headers=headers)

    [(loc, msg)] = await validation_errors(response)
    assert loc[0] == "path"
    assert msg == "Path segment is longer than 255 bytes"


async def test_renaming_from_or_to_a_segment_longer_than_255_utf8_bytes_is_a_422(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp", "a.tif", b"image")

    to_wide = await client.put(
        "/files/data/exp/a.tif", json={"path": f"data/{WIDE_NAME}"}, headers=headers
    )
    from_wide = await client.put(
        f"/files/data/{WIDE_NAME}", json={"path": "data/b.tif"}, headers=headers
    )

    too_long = "Path segment is longer than 255 bytes"
    assert await validation_errors(to_wide) == [(["body", "path"], too_long)]
    assert await validation_errors(from_wide) == [(["path", "path"], too_long)]


async def test_a_job_reading_a_folder_named_beyond_255_utf8_bytes_is_a_422(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    body = job_body(attributes=with_files_down(config_id=WIDE_NAME))

    response = await client.post("/jobs", json=body, headers=headers)

    [(loc, msg)] = await validation_errors(response)
    assert loc == ["body", "attributes", "files_down", "config_id"]
    assert "longer than 255 bytes" in msg


async def test_a_file_name_of_up_to_255_utf8_bytes_is_stored(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    name = "é" * 127 + "a"

    response = await upload(client, headers, "data/exp", name, b"image")

    assert response.status == 201, await response.text()
    assert (await response.json())["path"] == f"data/exp/{name}"


def _job_fields() -> bytes:
    """The rest of a valid JobCreate after its `job_name`, as raw JSON."""
    return (
        b'"application": {"application": "decode", "version": "v0_10_1", "entrypoint": "train"},'
        b' "attributes": {"files_down": {"config_id": "exp1", "data_ids": ["beads"]}}}'
    )
