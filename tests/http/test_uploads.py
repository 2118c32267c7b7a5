"""The upload session endpoints through the real application on local storage."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import ClientFactory, TokenFactory
from tests.http.files_helpers import Client, file_info, json_of, timeless
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.domain.uploads import MIN_PART_SIZE
from userfacing_api.settings import Settings

CONTENT = random.Random(7).randbytes(MIN_PART_SIZE + 5)  # two parts, the second 5 bytes
PARTS = {1: CONTENT[:MIN_PART_SIZE], 2: CONTENT[MIN_PART_SIZE:]}


@pytest.fixture
def environ(environ: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """The shared environment, plus what a test adds through `indirect` parameters."""
    added: dict[str, str] = getattr(request, "param", {})
    return {**environ, **added}


async def created(
    client: Client, headers: dict[str, str], path: str = "data/exp1/movie.tif", size: int = 10
) -> dict[str, Any]:
    response = await client.post("/uploads", json={"path": path, "size": size}, headers=headers)
    body: dict[str, Any] = await json_of(response, 201)
    return body


async def put_part(
    client: Client, headers: dict[str, str], upload_id: str, number: int, content: bytes
) -> int:
    """Send a part to the request the API hands out; the status of the PUT."""
    request = await json_of(
        await client.post(f"/uploads/{upload_id}/parts/{number}", headers=headers), 200
    )
    assert request["method"] == "put"
    assert request["data"] == {}
    async with client.session.put(
        request["url"], data=io.BytesIO(content), headers=request["headers"]
    ) as sent:
        return sent.status


async def test_a_large_file_goes_up_in_parts_and_comes_down_whole(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    session = await created(client, headers, size=len(CONTENT))
    upload_id = session["upload_id"]

    assert await put_part(client, headers, upload_id, 2, PARTS[2]) == 204
    halfway = await json_of(await client.get(f"/uploads/{upload_id}", headers=headers), 200)
    assert await put_part(client, headers, upload_id, 1, PARTS[1]) == 204
    done = await client.post(f"/uploads/{upload_id}/complete", headers=headers)
    info = await json_of(done, 201)
    download = await client.get("/files/data/exp1/movie.tif/download", headers=headers)

    assert session["parts_done"] == []
    assert (session["part_size"], session["part_count"]) == (MIN_PART_SIZE, 2)
    assert halfway["parts_done"] == [2]
    assert timeless(info) == file_info("data/exp1/movie.tif", "8.4 MB", len(CONTENT))
    assert hashlib.sha256(await download.read()).digest() == hashlib.sha256(CONTENT).digest()
    assert await json_of(await client.get("/uploads", headers=headers), 200) == []


async def test_a_session_answers_its_plan_and_expiry(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    before = datetime.now().astimezone()

    session = await created(client, headers, path="data//exp1/./big.tif", size=11 * 1024**3)

    assert set(session) == {
        "upload_id",
        "path",
        "size",
        "part_size",
        "part_count",
        "parts_done",
        "expires_at",
    }
    assert session["path"] == "data/exp1/big.tif"
    assert (session["size"], session["part_size"], session["part_count"]) == (
        11 * 1024**3,
        8 * 1024**2,
        1408,
    )
    expires = datetime.fromisoformat(session["expires_at"])
    assert expires.utcoffset() == timedelta(0)
    assert timedelta(hours=23) < expires - before <= timedelta(hours=24, minutes=1)
    listed = await json_of(await client.get("/uploads", headers=headers), 200)
    assert listed == [session]


async def test_the_part_url_is_this_apis_own_with_the_callers_credentials(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    upload_id = (await created(client, headers))["upload_id"]

    response = await client.post(f"/uploads/{upload_id}/parts/1", headers=headers)

    assert await json_of(response, 200) == {
        "method": "put",
        "url": str(client.make_url(f"/uploads/{upload_id}/parts/1")),
        "headers": {"authorization": headers["Authorization"]},
        "data": {},
    }


async def test_a_part_of_the_wrong_length_is_refused_and_not_counted(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    upload_id = (await created(client, headers, size=10))["upload_id"]

    async def chunked(content: bytes) -> Any:
        yield content

    short = await client.put(f"/uploads/{upload_id}/parts/1", data=b"123", headers=headers)
    long = await client.put(
        f"/uploads/{upload_id}/parts/1", data=chunked(b"x" * 11), headers=headers
    )
    session = await json_of(await client.get(f"/uploads/{upload_id}", headers=headers), 200)
    incomplete = await client.post(f"/uploads/{upload_id}/complete", headers=headers)

    assert short.status == 400
    assert "10 bytes" in (await short.json())["detail"]
    assert long.status == 400
    assert session["parts_done"] == []
    assert await json_of(incomplete, 409) == {"detail": "Parts missing or of the wrong size: 1"}


async def test_completing_twice_answers_the_same_file(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    upload_id = (await created(client, headers, path="config/a.yaml", size=4))["upload_id"]
    assert await put_part(client, headers, upload_id, 1, b"a: 1") == 204

    first = await json_of(await client.post(f"/uploads/{upload_id}/complete", headers=headers), 201)
    again = await json_of(await client.post(f"/uploads/{upload_id}/complete", headers=headers), 201)

    assert again == first
    assert first["size_bytes"] == 4


async def test_a_deleted_session_is_not_found(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()
    upload_id = (await created(client, headers))["upload_id"]

    deleted = await client.delete(f"/uploads/{upload_id}", headers=headers)

    assert deleted.status == 204
    for method, target in (
        ("GET", f"/uploads/{upload_id}"),
        ("POST", f"/uploads/{upload_id}/parts/1"),
        ("PUT", f"/uploads/{upload_id}/parts/1"),
        ("POST", f"/uploads/{upload_id}/complete"),
        ("DELETE", f"/uploads/{upload_id}"),
    ):
        response = await client.request(method, target, headers=headers)
        assert response.status == 404, (method, target)
        assert "detail" in await response.json()


async def test_another_users_session_is_not_found(
    client: Client, user_headers: TokenFactory
) -> None:
    alice = await user_headers("alice@example.org")
    bob = await user_headers("bob@example.org")
    upload_id = (await created(client, alice))["upload_id"]

    response = await client.get(f"/uploads/{upload_id}", headers=bob)

    assert response.status == 404
    assert await json_of(await client.get("/uploads", headers=bob), 200) == []


@pytest.mark.parametrize(
    "body",
    [
        {"path": "output/run/a.tif", "size": 1},
        {"path": "../other/data/a.tif", "size": 1},
        {"path": "data/a.tif", "size": -1},
        {"path": "data/a.tif", "size": "12"},
        {"path": "data/a.tif"},
        {"size": 1},
    ],
)
async def test_a_bad_session_request_is_422(
    client: Client, user_headers: TokenFactory, body: dict[str, Any]
) -> None:
    headers = await user_headers()

    response = await client.post("/uploads", json=body, headers=headers)

    assert response.status == 422
    assert await json_of(await client.get("/uploads", headers=headers), 200) == []


async def test_a_file_above_5_tib_is_413(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.post(
        "/uploads", json={"path": "data/a.tif", "size": 5 * 1024**4 + 1}, headers=headers
    )

    assert response.status == 413
    assert "detail" in await response.json()


@pytest.mark.parametrize("environ", [{"UPLOAD_MAX_SIZE": "1000"}], indirect=True)
async def test_a_file_above_upload_max_size_is_413(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    too_large = await client.post(
        "/uploads", json={"path": "data/a.tif", "size": 1001}, headers=headers
    )
    allowed = await client.post(
        "/uploads", json={"path": "data/a.tif", "size": 1000}, headers=headers
    )

    assert too_large.status == 413
    assert allowed.status == 201


async def test_upload_sessions_need_a_token(client: Client) -> None:
    response = await client.get("/uploads")

    assert response.status == 401


async def test_a_session_survives_a_restart_of_the_service(
    aiohttp_client: ClientFactory,
    settings: Settings,
    identity: Identity | None,
    user_headers: TokenFactory,
    client: Client,
) -> None:
    headers = await user_headers()
    upload_id = (await created(client, headers, size=len(CONTENT)))["upload_id"]
    assert await put_part(client, headers, upload_id, 1, PARTS[1]) == 204
    await client.close()

    restarted = await aiohttp_client(create_app(settings, identity=identity))
    resumed = await json_of(await restarted.get(f"/uploads/{upload_id}", headers=headers), 200)
    assert await put_part(restarted, headers, upload_id, 2, PARTS[2]) == 204
    info = await json_of(
        await restarted.post(f"/uploads/{upload_id}/complete", headers=headers), 201
    )

    assert resumed["parts_done"] == [1]
    assert info["size_bytes"] == len(CONTENT)
