"""The main Files flows of the HTTP contract through the real application on S3 (moto)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import aiohttp

from tests.conftest import TokenFactory
from tests.http.files_helpers import (
    Client,
    a_rename_onto_a_file_replaces_it_unless_told_not_to,
    file_info,
    folder_info,
    json_of,
    timeless,
    uploaded,
)
from tests.http.jobs_helpers import user_id_of
from tests.integration.s3_support import USER_DATA_PREFIX
from tests.integration.s3_support import environ as environ


async def keys_below(s3_client: Any, bucket: str, prefix: str) -> list[str]:
    answer = await s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


async def test_files_sent_through_the_presigned_post_are_listed_and_fetched_by_presigned_get(
    client: Client, user_headers: TokenFactory, moto_endpoint: str
) -> None:
    headers = await user_headers()
    files = {"a.tif": b"nineteen bytes long", "b.tif": b"another image"}

    upload = await json_of(await client.post("/files/data/exp/url", headers=headers), 201)
    assert upload["method"] == "post"
    assert upload["url"].startswith(moto_endpoint)
    assert upload["headers"] == {}
    user = user_id_of(headers)
    assert upload["data"]["key"] == f"{USER_DATA_PREFIX}/{user}/data/exp/${{filename}}"
    async with aiohttp.ClientSession() as direct:
        for name, content in files.items():
            form = aiohttp.FormData(upload["data"])
            form.add_field("file", content, filename=name)
            async with direct.request(
                upload["method"], upload["url"], headers=upload["headers"], data=form
            ) as sent:
                assert sent.status in (200, 201, 204), await sent.text()

        listed = await json_of(await client.get("/files/data/exp", headers=headers), 200)
        assert [timeless(entry) for entry in listed] == [
            file_info("data/exp/a.tif", "19 Bytes", 19),
            file_info("data/exp/b.tif", "13 Bytes", 13),
        ]

        download = await json_of(
            await client.get("/files/data/exp/a.tif/url", headers=headers), 200
        )
        assert (download["method"], download["headers"], download["data"]) == ("get", {}, {})
        async with direct.request(download["method"], download["url"]) as fetched:
            assert fetched.status == 200
            assert await fetched.read() == files["a.tif"]


async def test_the_root_lists_the_five_folders_kept_as_folder_objects(
    client: Client, user_headers: TokenFactory, s3_client: Any, s3_bucket: str
) -> None:
    headers = await user_headers()

    listed = await json_of(await client.get("/files/", headers=headers), 200)

    folders = ["artifact", "config", "data", "log", "output"]
    assert listed == [folder_info(f"{name}/") for name in folders]
    root = f"{USER_DATA_PREFIX}/{user_id_of(headers)}/"
    assert sorted(await keys_below(s3_client, s3_bucket, root)) == [
        f"{root}{name}/" for name in folders
    ]


async def test_uploaded_files_are_renamed_zipped_and_deleted(
    client: Client, user_headers: TokenFactory, s3_client: Any, s3_bucket: str
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp", "a.tif", b"first")
    await uploaded(client, headers, "data/exp/deep", "b.tif", b"second")

    renamed = await client.put(
        "/files/data/exp/a.tif", json={"path": "data/exp/c.tif"}, headers=headers
    )
    assert timeless(await json_of(renamed, 200)) == file_info("data/exp/c.tif", "5 Bytes", 5)
    old = await client.get("/files/data/exp/a.tif/download", headers=headers)
    assert old.status == 404

    archive = await client.get("/files/data/exp/download", headers=headers)
    assert archive.status == 200
    assert archive.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(await archive.read())) as unpacked:
        assert sorted(unpacked.namelist()) == ["c.tif", "deep/b.tif"]
        assert unpacked.read("deep/b.tif") == b"second"

    deleted = await client.delete("/files/data/exp", headers=headers)
    assert deleted.status == 204
    gone = await client.get("/files/data/exp", headers=headers)
    assert gone.status == 404
    prefix = f"{USER_DATA_PREFIX}/{user_id_of(headers)}/data/exp"
    assert await keys_below(s3_client, s3_bucket, prefix) == []
    assert await json_of(await client.get("/files/data/", headers=headers), 200) == []


async def test_a_rename_onto_a_file_replaces_it_unless_told_not_to(
    client: Client, user_headers: TokenFactory
) -> None:
    await a_rename_onto_a_file_replaces_it_unless_told_not_to(client, await user_headers())
