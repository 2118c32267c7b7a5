"""Upload sessions through the real application on S3 (moto server): bytes go straight to S3."""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client, json_of
from tests.http.jobs_helpers import user_id_of
from tests.integration.s3_support import USER_DATA_PREFIX
from tests.integration.s3_support import environ as environ
from userfacing_api.domain.uploads import MIN_PART_SIZE

CONTENT = random.Random(3).randbytes(MIN_PART_SIZE + 7)
PARTS = {1: CONTENT[:MIN_PART_SIZE], 2: CONTENT[MIN_PART_SIZE:]}


async def part_request(
    client: Client, headers: dict[str, str], upload_id: str, number: int
) -> dict[str, Any]:
    response = await client.post(f"/uploads/{upload_id}/parts/{number}", headers=headers)
    body: dict[str, Any] = await json_of(response, 200)
    return body


async def multipart_uploads(s3_client: Any, bucket: str) -> list[dict[str, Any]]:
    answer = await s3_client.list_multipart_uploads(Bucket=bucket)
    uploads: list[dict[str, Any]] = answer.get("Uploads", [])
    return uploads


async def test_parts_go_to_presigned_upload_part_urls_that_sign_their_length(
    client: Client, user_headers: TokenFactory, moto_endpoint: str, s3_client: Any, s3_bucket: str
) -> None:
    headers = await user_headers()
    session = await json_of(
        await client.post(
            "/uploads", json={"path": "data/exp/movie.tif", "size": len(CONTENT)}, headers=headers
        ),
        201,
    )
    upload_id = session["upload_id"]
    [pending] = await multipart_uploads(s3_client, s3_bucket)

    async with aiohttp.ClientSession() as direct:
        for number in (2, 1):
            request = await part_request(client, headers, upload_id, number)
            query = parse_qs(urlsplit(request["url"]).query)
            assert request["method"] == "put"
            assert request["url"].startswith(moto_endpoint)
            assert query["partNumber"] == [str(number)]
            assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
            async with direct.put(
                request["url"], data=io.BytesIO(PARTS[number]), headers=request["headers"]
            ) as sent:
                assert sent.status == 200, await sent.text()
    info = await json_of(await client.post(f"/uploads/{upload_id}/complete", headers=headers), 201)
    download = await client.get("/files/data/exp/movie.tif/download", headers=headers)

    assert pending["Key"] == f"{USER_DATA_PREFIX}/{user_id_of(headers)}/data/exp/movie.tif"
    assert info["size_bytes"] == len(CONTENT)
    assert hashlib.sha256(await download.read()).digest() == hashlib.sha256(CONTENT).digest()
    assert await multipart_uploads(s3_client, s3_bucket) == []


async def test_a_part_s3_holds_with_the_wrong_length_is_not_done_and_named_by_complete(
    client: Client, user_headers: TokenFactory, s3_client: Any, s3_bucket: str
) -> None:
    headers = await user_headers()
    session = await json_of(
        await client.post(
            "/uploads", json={"path": "data/movie.tif", "size": len(CONTENT)}, headers=headers
        ),
        201,
    )
    [pending] = await multipart_uploads(s3_client, s3_bucket)
    for number, content in ((1, PARTS[1][:-1]), (2, PARTS[2])):
        await s3_client.upload_part(
            Bucket=s3_bucket,
            Key=pending["Key"],
            UploadId=pending["UploadId"],
            PartNumber=number,
            Body=content,
        )

    resumed = await json_of(
        await client.get(f"/uploads/{session['upload_id']}", headers=headers), 200
    )
    refused = await client.post(f"/uploads/{session['upload_id']}/complete", headers=headers)

    assert resumed["parts_done"] == [2]
    assert await json_of(refused, 409) == {"detail": "Parts missing or of the wrong size: 1"}


async def test_a_deleted_session_aborts_its_multipart_upload(
    client: Client, user_headers: TokenFactory, s3_client: Any, s3_bucket: str
) -> None:
    headers = await user_headers()
    session = await json_of(
        await client.post("/uploads", json={"path": "data/a.tif", "size": 10}, headers=headers),
        201,
    )
    assert len(await multipart_uploads(s3_client, s3_bucket)) == 1

    deleted = await client.delete(f"/uploads/{session['upload_id']}", headers=headers)

    assert deleted.status == 204
    assert await multipart_uploads(s3_client, s3_bucket) == []
    gone = await client.get(f"/uploads/{session['upload_id']}", headers=headers)
    assert gone.status == 404
