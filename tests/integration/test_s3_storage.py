"""The S3 storage against a moto server: presigned requests, the original layout, scale."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.integration.moto import MOTO_SECRET_ACCESS_KEY
from tests.integration.s3_support import BUCKET_REGION, USER_DATA_PREFIX
from userfacing_api.adapters.storage.s3 import MiB, S3FileStorage, open_s3_storage
from userfacing_api.domain.errors import NotFound
from userfacing_api.domain.files import FileInfo, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.storage import FileStorage, StorageUnavailable

USER = UserId("alice")
MANY = 1005
"""More objects than one listing page (1,000) holds."""
CONCURRENT_PUTS = 32
WAIT_SECONDS = 10.0


async def chunks_of(*blocks: bytes) -> AsyncIterator[bytes]:
    for block in blocks:
        yield block


async def read_all(
    storage: FileStorage, path: UserPath, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in storage.read(USER, path, start, end)])


async def put_many(client: Any, bucket: str, keys: list[str]) -> None:
    """Create small objects directly in the bucket, a bounded number at a time."""
    gate = asyncio.Semaphore(CONCURRENT_PUTS)

    async def put(key: str) -> None:
        async with gate:
            await client.put_object(Bucket=bucket, Key=key, Body=b"x")

    await asyncio.gather(*(put(key) for key in keys))


async def keys_in(client: Any, bucket: str) -> list[str]:
    keys: list[str] = []
    async for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


async def pending_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    answer = await client.list_multipart_uploads(Bucket=bucket)
    uploads: list[dict[str, Any]] = answer.get("Uploads", [])
    return uploads


def by_path(entries: list[FileInfo]) -> dict[str, FileInfo]:
    return {entry.path: entry for entry in entries}


async def test_several_files_uploaded_through_one_presigned_post_are_listed(
    s3_storage: S3FileStorage,
) -> None:
    request = await s3_storage.presigned_upload(USER, UserPath("data/exp"), expires_in=600)
    assert request is not None
    assert request.method == "post"
    assert request.headers == {}
    files = {"a.tif": b"first image", "b.tif": b"second, longer image", "notes.txt": b"n"}

    async with aiohttp.ClientSession() as http:
        for name, content in files.items():
            form = aiohttp.FormData(request.data)
            form.add_field("file", content, filename=name)
            async with http.post(request.url, data=form) as answer:
                assert answer.status in (200, 201, 204), await answer.text()

    listed = await s3_storage.list(USER, UserPath("data/exp"), recursive=False)
    assert {(entry.path, entry.size) for entry in listed} == {
        (f"data/exp/{name}", len(content)) for name, content in files.items()
    }


async def test_presigned_post_signs_a_policy_confining_keys_to_the_folder(
    s3_storage: S3FileStorage,
) -> None:
    """The moto server accepts any key in a POST, so the signed policy itself is checked.

    S3 refuses a POST whose key does not satisfy the `starts-with` condition of
    the policy, and the policy cannot be altered without breaking its signature.
    """
    request = await s3_storage.presigned_upload(USER, UserPath("data/exp"), expires_in=600)
    assert request is not None
    folder = f"{USER_DATA_PREFIX}/{USER}/data/exp/"
    assert request.data["key"] == folder + "${filename}"
    policy = json.loads(base64.b64decode(request.data["policy"]))
    assert ["starts-with", "$key", folder] in policy["conditions"]
    assert not any(
        condition[0] == "starts-with" and condition[1] == "$key" and not condition[2]
        for condition in policy["conditions"]
        if isinstance(condition, list)
    )

    _, date, region, service, _ = request.data["x-amz-credential"].split("/")
    assert (region, service) == (BUCKET_REGION, "s3")
    key = f"AWS4{MOTO_SECRET_ACCESS_KEY}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, request.data["policy"].encode(), hashlib.sha256).hexdigest()
    assert request.data["x-amz-signature"] == expected
    assert request.data["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


async def test_presigned_get_downloads_the_file_bytes(s3_storage: S3FileStorage) -> None:
    content = bytes(range(256)) * 100
    await s3_storage.write(USER, UserPath("data/exp/a.tif"), chunks_of(content))

    request = await s3_storage.presigned_download(USER, UserPath("data/exp/a.tif"), expires_in=600)

    assert request is not None
    assert (request.method, request.headers, request.data) == ("get", {}, {})
    assert "X-Amz-Signature=" in request.url
    assert "X-Amz-Expires=600" in request.url
    async with aiohttp.ClientSession() as http, http.get(request.url) as answer:
        assert answer.status == 200
        assert await answer.read() == content


async def test_a_bucket_laid_out_by_the_original_service_is_read(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    root = f"{USER_DATA_PREFIX}/{USER}"
    for key, body in (
        (f"{root}/config/", b""),
        (f"{root}/data/", b""),
        (f"{root}/data/exp1/a.tif", b"nineteen bytes long"),
        (f"{root}/artifact/run/nested/b.bin", b"12345"),
    ):
        await s3_client.put_object(Bucket=s3_bucket, Key=key, Body=body)

    assert (await s3_storage.stat(USER, UserPath("config"))) == FileInfo(
        "config", FileType.DIRECTORY
    )
    assert (await s3_storage.stat(USER, UserPath("data/exp1"))) == FileInfo(
        "data/exp1", FileType.DIRECTORY
    )
    assert (await s3_storage.stat(USER, UserPath("artifact/run"))) == FileInfo(
        "artifact/run", FileType.DIRECTORY
    )
    image = await s3_storage.stat(USER, UserPath("data/exp1/a.tif"))
    assert image is not None
    assert (image.type, image.size) == (FileType.FILE, 19)
    assert await s3_storage.stat(USER, UserPath("data/exp")) is None
    with pytest.raises(NotFound):
        await s3_storage.list(USER, UserPath("data/exp"), recursive=False)

    top = await s3_storage.list(USER, UserPath(""), recursive=False)
    assert {(entry.path, entry.type) for entry in top} == {
        ("config", FileType.DIRECTORY),
        ("data", FileType.DIRECTORY),
        ("artifact", FileType.DIRECTORY),
    }
    data = by_path(await s3_storage.list(USER, UserPath("data"), recursive=True))
    assert data["data/exp1"].type is FileType.DIRECTORY
    assert (data["data/exp1/a.tif"].type, data["data/exp1/a.tif"].size) == (FileType.FILE, 19)
    assert set(data) == {"data/exp1", "data/exp1/a.tif"}
    artifact = by_path(await s3_storage.list(USER, UserPath("artifact"), recursive=True))
    assert set(artifact) == {"artifact/run", "artifact/run/nested", "artifact/run/nested/b.bin"}
    assert artifact["artifact/run/nested/b.bin"].size == 5
    assert await read_all(s3_storage, UserPath("data/exp1/a.tif")) == b"nineteen bytes long"


async def test_keys_no_normalised_path_names_are_left_out_of_listings(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    root = f"{USER_DATA_PREFIX}/{USER}"
    await s3_client.put_object(Bucket=s3_bucket, Key=f"{root}/data/ok.txt", Body=b"ok")
    await s3_client.put_object(Bucket=s3_bucket, Key=f"{root}/data//twice.txt", Body=b"x")
    await s3_client.put_object(Bucket=s3_bucket, Key=f"{root}/data/../escape.txt", Body=b"x")

    listed = await s3_storage.list(USER, UserPath("data"), recursive=True)

    assert [entry.path for entry in listed] == ["data/ok.txt"]


async def test_a_folder_of_more_than_a_thousand_objects_lists_completely(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    folder = f"{USER_DATA_PREFIX}/{USER}/data/many"
    await put_many(s3_client, s3_bucket, [f"{folder}/{index:04}.bin" for index in range(MANY)])

    shallow = await s3_storage.list(USER, UserPath("data/many"), recursive=False)
    deep = await s3_storage.list(USER, UserPath("data"), recursive=True)

    expected = {f"data/many/{index:04}.bin" for index in range(MANY)}
    assert {entry.path for entry in shallow} == expected
    assert {entry.path for entry in deep} == expected | {"data/many"}
    assert all(entry.size == 1 for entry in shallow)


async def test_deleting_a_folder_of_more_than_a_thousand_objects_removes_them_all(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    folder = f"{USER_DATA_PREFIX}/{USER}/output/job"
    keys = [f"{folder}/{index // 100}/{index:04}.bin" for index in range(MANY)]
    await put_many(s3_client, s3_bucket, keys)
    await s3_storage.make_folder(USER, UserPath("output/job"))
    await s3_storage.write(USER, UserPath("output/kept.txt"), chunks_of(b"kept"))

    await s3_storage.delete(USER, UserPath("output/job"))

    assert await s3_storage.stat(USER, UserPath("output/job")) is None
    remaining = await keys_in(s3_client, s3_bucket)
    assert [key for key in remaining if key.startswith(f"{folder}/")] == []
    assert f"{USER_DATA_PREFIX}/{USER}/output/kept.txt" in remaining


async def test_a_write_larger_than_one_part_goes_up_in_parts_and_round_trips(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    blocks = [bytes([index]) * MiB for index in range(20)]

    written = await s3_storage.write(USER, UserPath("data/big.bin"), chunks_of(*blocks))

    assert (written.path, written.type, written.size) == ("data/big.bin", FileType.FILE, 20 * MiB)
    head = await s3_client.head_object(
        Bucket=s3_bucket, Key=f"{USER_DATA_PREFIX}/{USER}/data/big.bin"
    )
    assert head["ETag"].strip('"').endswith("-3"), "8 MiB parts: 8 + 8 + 4 MiB"
    digest = hashlib.sha256()
    async for chunk in s3_storage.read(USER, UserPath("data/big.bin")):
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(b"".join(blocks)).digest()
    assert await pending_uploads(s3_client, s3_bucket) == []


async def test_a_multipart_write_whose_source_fails_leaves_nothing_behind(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * MiB
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await s3_storage.write(USER, UserPath("data/broken.bin"), failing())

    assert await s3_storage.stat(USER, UserPath("data/broken.bin")) is None
    assert await pending_uploads(s3_client, s3_bucket) == []


async def test_a_cancelled_multipart_write_is_aborted(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    parts_sent = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"y" * MiB
        parts_sent.set()
        await asyncio.Event().wait()
        yield b"never"

    writing = asyncio.create_task(s3_storage.write(USER, UserPath("data/stalled.bin"), stalling()))
    await asyncio.wait_for(parts_sent.wait(), WAIT_SECONDS)
    assert len(await pending_uploads(s3_client, s3_bucket)) == 1

    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing

    assert await pending_uploads(s3_client, s3_bucket) == []
    assert await s3_storage.stat(USER, UserPath("data/stalled.bin")) is None


async def test_a_failed_write_keeps_the_previous_content(s3_storage: S3FileStorage) -> None:
    await s3_storage.write(USER, UserPath("data/a.bin"), chunks_of(b"old"))

    async def failing() -> AsyncIterator[bytes]:
        yield b"new"
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await s3_storage.write(USER, UserPath("data/a.bin"), failing())

    assert await read_all(s3_storage, UserPath("data/a.bin")) == b"old"


async def test_a_file_above_the_copy_limit_is_moved_with_a_multipart_copy(
    s3_client: Any, s3_bucket: str
) -> None:
    storage = S3FileStorage(
        s3_client, s3_bucket, USER_DATA_PREFIX, copy_limit=6 * MiB, copy_part_size=5 * MiB
    )
    content = b"".join(bytes([index]) * MiB for index in range(12))
    await storage.write(USER, UserPath("data/big.bin"), chunks_of(content))

    await storage.move(USER, UserPath("data/big.bin"), UserPath("data/moved/big.bin"))

    assert await storage.stat(USER, UserPath("data/big.bin")) is None
    assert await read_all(storage, UserPath("data/moved/big.bin")) == content
    head = await s3_client.head_object(
        Bucket=s3_bucket, Key=f"{USER_DATA_PREFIX}/{USER}/data/moved/big.bin"
    )
    assert head["ETag"].strip('"').endswith("-3"), "5 MiB copy parts: 5 + 5 + 2 MiB"
    assert await pending_uploads(s3_client, s3_bucket) == []


async def test_ranges_are_read_from_the_object(s3_storage: S3FileStorage) -> None:
    await s3_storage.write(USER, UserPath("data/digits.txt"), chunks_of(b"0123456789"))

    assert await read_all(s3_storage, UserPath("data/digits.txt"), 2, 5) == b"234"
    assert await read_all(s3_storage, UserPath("data/digits.txt"), 7) == b"789"
    assert await read_all(s3_storage, UserPath("data/digits.txt"), 8, 50) == b"89"
    assert await read_all(s3_storage, UserPath("data/digits.txt"), 10) == b""
    assert await read_all(s3_storage, UserPath("data/digits.txt"), 4, 4) == b""
    with pytest.raises(NotFound):
        await read_all(s3_storage, UserPath("data/missing.txt"))
    with pytest.raises(NotFound):
        await read_all(s3_storage, UserPath("data"))


async def test_folders_are_zero_byte_objects_ending_in_a_slash(
    s3_client: Any, s3_bucket: str, s3_storage: S3FileStorage
) -> None:
    await s3_storage.make_folder(USER, UserPath("config/sub/deeper"))

    root = f"{USER_DATA_PREFIX}/{USER}"
    assert sorted(await keys_in(s3_client, s3_bucket)) == [
        f"{root}/config/",
        f"{root}/config/sub/",
        f"{root}/config/sub/deeper/",
    ]
    head = await s3_client.head_object(Bucket=s3_bucket, Key=f"{root}/config/sub/deeper/")
    assert head["ContentLength"] == 0


async def test_uris_name_the_bucket_and_key(s3_bucket: str, s3_storage: S3FileStorage) -> None:
    assert s3_storage.uri(USER, UserPath("data/exp/a.tif")) == (
        f"s3://{s3_bucket}/{USER_DATA_PREFIX}/{USER}/data/exp/a.tif"
    )
    assert (
        s3_storage.uri(USER, UserPath("output/job"))
        == f"s3://{s3_bucket}/{USER_DATA_PREFIX}/{USER}/output/job"
    )


async def test_an_empty_prefix_puts_user_trees_at_the_top_of_the_bucket(
    s3_client: Any, s3_bucket: str
) -> None:
    async with open_s3_storage(s3_bucket, BUCKET_REGION, "") as storage:
        await storage.write(USER, UserPath("data/a.txt"), chunks_of(b"abc"))
        listed = await storage.list(USER, UserPath(""), recursive=True)
        uri = storage.uri(USER, UserPath("data/a.txt"))

    assert "alice/data/a.txt" in await keys_in(s3_client, s3_bucket)
    assert {(entry.path, entry.size) for entry in listed} == {("data", None), ("data/a.txt", 3)}
    assert uri == f"s3://{s3_bucket}/alice/data/a.txt"


async def test_users_do_not_see_each_others_files(s3_storage: S3FileStorage) -> None:
    await s3_storage.write(USER, UserPath("data/a.txt"), chunks_of(b"a"))
    await s3_storage.write(UserId("alice2"), UserPath("data/b.txt"), chunks_of(b"b"))

    assert [
        entry.path for entry in await s3_storage.list(USER, UserPath("data"), recursive=True)
    ] == ["data/a.txt"]
    assert await s3_storage.stat(USER, UserPath("data/b.txt")) is None


async def test_ping_answers_for_an_existing_bucket_only(
    moto_endpoint: str, s3_storage: S3FileStorage
) -> None:
    await s3_storage.ping()
    async with open_s3_storage("no-such-bucket-here", BUCKET_REGION, "") as missing:
        with pytest.raises(StorageUnavailable):
            await missing.ping()


async def test_an_unreachable_endpoint_is_reported_as_unavailable(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{unused_tcp_port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    async with open_s3_storage("any-bucket", BUCKET_REGION, USER_DATA_PREFIX) as storage:
        with pytest.raises(StorageUnavailable) as raised:
            await storage.stat(USER, UserPath("data/a.txt"))
        with pytest.raises(StorageUnavailable):
            await storage.ping()

    assert raised.value.__cause__ is not None


async def test_presigned_requests_address_the_buckets_regional_endpoint(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket outside us-east-1 answers the global endpoint with a redirect for a while
    after its creation, which breaks presigned POSTs: the regional name avoids that."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    async with open_s3_storage("decode-data", "eu-central-1", USER_DATA_PREFIX) as storage:
        upload = await storage.presigned_upload(USER, UserPath("data/exp"), expires_in=600)
        download = await storage.presigned_download(
            USER, UserPath("data/exp/a.tif"), expires_in=600
        )

    assert upload is not None
    assert download is not None
    assert upload.url == "https://decode-data.s3.eu-central-1.amazonaws.com/"
    assert download.url.startswith(
        "https://decode-data.s3.eu-central-1.amazonaws.com/user_data/alice/data/exp/a.tif?"
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in download.url
