"""The Files table of the HTTP contract, row by row, through the real application."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import FormData

from tests.conftest import TokenFactory
from tests.http.files_helpers import (
    Client,
    a_rename_onto_a_file_replaces_it_unless_told_not_to,
    file_info,
    folder_info,
    timeless,
    upload,
    uploaded,
)
from tests.http.validation import validation_errors

ROOT_LISTING = [
    folder_info("artifact/"),
    folder_info("config/"),
    folder_info("data/"),
    folder_info("log/"),
    folder_info("output/"),
]


async def listing(client: Client, headers: dict[str, str], target: str) -> list[dict[str, Any]]:
    response = await client.get(target, headers=headers)
    assert response.status == 200, await response.text()
    body: list[dict[str, Any]] = await response.json()
    return body


async def test_files_routes_need_a_token(client: Client) -> None:
    response = await client.get("/files/")

    assert response.status == 401
    assert "detail" in await response.json()


async def test_the_root_lists_the_five_folders(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    assert await listing(client, headers, "/files/") == ROOT_LISTING
    assert await listing(client, headers, "/files//") == ROOT_LISTING


async def test_an_upload_answers_the_file_info_and_appears_in_the_listing(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await upload(client, headers, "data/exp1", "a.tif", b"19 bytes of content")

    assert response.status == 201
    answered = await response.json()
    assert timeless(answered) == file_info("data/exp1/a.tif", "19 Bytes", 19)
    assert await listing(client, headers, "/files/data/") == [folder_info("data/exp1/")]
    assert await listing(client, headers, "/files/data/exp1") == [answered]


async def test_sizes_are_human_readable_decimal_units(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    info = await uploaded(client, headers, "config/", "big.yaml", b"x" * 1234)

    assert info["size"] == "1.2 kB"


async def test_a_listing_is_sorted_and_honours_show_dirs_and_recursive(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/b", "2.txt", b"2")
    await uploaded(client, headers, "data/a/deep", "1.txt", b"1")
    await uploaded(client, headers, "data/", "z.txt", b"z")

    flat = await listing(client, headers, "/files/data/")
    deep = await listing(client, headers, "/files/data/?recursive=true")
    files_only = await listing(client, headers, "/files/data/?recursive=true&show_dirs=false")

    assert [entry["path"] for entry in flat] == ["data/a/", "data/b/", "data/z.txt"]
    assert [entry["path"] for entry in deep] == [
        "data/a/",
        "data/a/deep/",
        "data/a/deep/1.txt",
        "data/b/",
        "data/b/2.txt",
        "data/z.txt",
    ]
    assert [entry["path"] for entry in files_only] == [
        "data/a/deep/1.txt",
        "data/b/2.txt",
        "data/z.txt",
    ]


async def test_listing_something_that_is_not_a_folder_is_not_found(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "a.txt", b"a")

    missing = await client.get("/files/data/nowhere/", headers=headers)
    a_file = await client.get("/files/data/a.txt", headers=headers)

    assert missing.status == 404
    assert "detail" in await missing.json()
    assert a_file.status == 404


async def test_a_listing_query_that_is_not_a_boolean_is_rejected(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.get("/files/data/?recursive=maybe", headers=headers)

    assert await validation_errors(response) == [(["query", "recursive"], "Not a valid boolean.")]


async def test_a_download_answers_the_bytes_with_their_metadata(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp1", "notes.txt", b"some notes")

    response = await client.get("/files/data/exp1/notes.txt/download", headers=headers)

    assert response.status == 200
    assert await response.read() == b"some notes"
    assert response.headers["Content-Length"] == "10"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.txt"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Last-Modified"].endswith(" GMT")


async def test_an_unknown_type_is_downloaded_as_octet_stream_under_an_encoded_name(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "résultat final", b"\x00\x01")

    response = await client.get("/files/data/résultat final/download", headers=headers)

    assert response.status == 200
    assert await response.read() == b"\x00\x01"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"r_sultat final\"; filename*=UTF-8''r%C3%A9sultat%20final"
    )


async def test_downloading_nothing_is_not_found(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.get("/files/data/missing.txt/download", headers=headers)

    assert response.status == 404
    assert "detail" in await response.json()


async def test_the_download_url_downloads_the_file_with_the_copied_authorization(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp1", "a.txt", b"through the url")

    response = await client.get("/files/data/exp1/a.txt/url", headers=headers)
    request = await response.json()
    fetched = await client.session.request(
        request["method"], request["url"], headers=request["headers"], data=request["data"]
    )

    assert response.status == 200
    assert request["method"] == "get"
    assert request["url"] == str(client.make_url("/files/data/exp1/a.txt/download"))
    assert request["headers"] == {"authorization": headers["Authorization"]}
    assert request["data"] == {}
    assert fetched.status == 200
    assert await fetched.read() == b"through the url"


async def test_the_download_url_of_nothing_is_not_found(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.get("/files/data/missing.txt/url", headers=headers)

    assert response.status == 404


async def test_the_upload_url_uploads_into_the_folder(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.post("/files/data/exp2/url", headers=headers)
    request = await response.json()
    form = FormData(request["data"])
    form.add_field("file", b"sent directly", filename="direct.txt")
    sent = await client.session.request(
        request["method"], request["url"], headers=request["headers"], data=form
    )

    assert response.status == 201
    assert request["method"] == "post"
    assert request["url"] == str(client.make_url("/files/data/exp2/upload"))
    assert request["headers"] == {"authorization": headers["Authorization"]}
    assert sent.status == 201
    assert (await sent.json())["path"] == "data/exp2/direct.txt"
    download = await client.get("/files/data/exp2/direct.txt/download", headers=headers)
    assert await download.read() == b"sent directly"


@pytest.mark.parametrize(
    ("asked", "upload_path", "stored"),
    [
        ("/files/config//url", "/files/config/upload", "config/param.yaml"),
        ("/files/data//exp1//url", "/files/data/exp1/upload", "data/exp1/param.yaml"),
    ],
)
async def test_the_upload_url_of_a_folder_written_loosely_is_clean(
    client: Client, user_headers: TokenFactory, asked: str, upload_path: str, stored: str
) -> None:
    headers = await user_headers()

    response = await client.post(asked, headers=headers)
    request = await response.json()
    form = FormData(request["data"])
    form.add_field("file", b"gain: 2", filename="param.yaml")
    sent = await client.session.request(
        request["method"], request["url"], headers=request["headers"], data=form
    )

    assert response.status == 201, request
    assert request["url"] == str(client.make_url(upload_path))
    assert "//" not in request["url"].removeprefix("http://")
    assert sent.status == 201
    assert (await sent.json())["path"] == stored


async def test_an_upload_url_outside_the_upload_folders_is_rejected(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.post("/files/output/exp/url", headers=headers)

    assert [loc for loc, _ in await validation_errors(response)] == [["path", "type"]]


async def test_uploads_go_only_into_config_data_and_artifact(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    accepted = [
        (await upload(client, headers, f"{kind}/x", "f.txt", b"f")).status
        for kind in ("config", "data", "artifact")
    ]
    rejected = [
        (await upload(client, headers, f"{kind}/x", "f.txt", b"f")).status
        for kind in ("output", "log", "other")
    ]

    assert accepted == [201, 201, 201]
    assert rejected == [422, 422, 422]
    assert await listing(client, headers, "/files/output/") == []


async def test_an_upload_straight_into_a_top_folder_uses_an_empty_folder_part(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await upload(client, headers, "config/", "top.yaml", b"k: v")

    assert response.status == 201
    assert (await response.json())["path"] == "config/top.yaml"


async def test_an_upload_replaces_a_file_of_the_same_name(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "a.txt", b"old")

    await uploaded(client, headers, "data/", "a.txt", b"new content")

    download = await client.get("/files/data/a.txt/download", headers=headers)
    assert await download.read() == b"new content"


async def test_an_upload_without_a_file_field_is_rejected(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    other_field = FormData()
    other_field.add_field("document", b"x", filename="x.txt")
    no_filename = FormData()
    no_filename.add_field("file", "just text")
    no_filename.add_field("force_multipart", b"x", filename="y")

    responses = [
        await client.post("/files/data/x/upload", data=other_field, headers=headers),
        await client.post("/files/data/x/upload", data=no_filename, headers=headers),
        await client.post("/files/data/x/upload", json={"file": "x"}, headers=headers),
        await client.post("/files/data/x/upload", headers=headers),
    ]

    for response in responses:
        assert [loc for loc, _ in await validation_errors(response)] == [["form", "file"]]
    for response in responses:
        assert "detail" in await response.json()
    assert await listing(client, headers, "/files/data/") == []


async def test_a_malformed_or_truncated_multipart_body_is_a_bad_request(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    form_headers = {**headers, "Content-Type": "multipart/form-data; boundary=b"}
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\n'

    no_boundary = await client.post(
        "/files/data/x/upload",
        data=b"x",
        headers={**headers, "Content-Type": "multipart/form-data"},
    )
    garbage = await client.post("/files/data/x/upload", data=b"not a form", headers=form_headers)
    truncated = await client.post(
        "/files/data/x/upload", data=part + b"no closing boundary", headers=form_headers
    )

    assert no_boundary.status == 422
    assert garbage.status == 400
    assert truncated.status == 400
    assert "detail" in await truncated.json()
    assert await listing(client, headers, "/files/data/?recursive=true&show_dirs=false") == []


async def test_an_upload_skips_other_form_fields_before_the_file(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    form = FormData()
    form.add_field("note", "ignored")
    form.add_field("file", b"the file", filename="b.txt")

    response = await client.post("/files/data/x/upload", data=form, headers=headers)

    assert response.status == 201
    assert (await response.json())["path"] == "data/x/b.txt"


async def test_an_upload_larger_than_the_form_size_limit_is_streamed(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    content = bytes(range(256)) * (12 * 1024)  # 3 MiB, above the 1 MiB limit for forms

    info = await uploaded(client, headers, "data/", "big.bin", content)

    download = await client.get("/files/data/big.bin/download", headers=headers)
    assert info["size"] == "3.1 MB"
    assert await download.read() == content


async def test_a_folder_is_created(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.post("/files/artifact/models/v1/", headers=headers)

    assert response.status == 201
    assert await response.json() == folder_info("artifact/models/v1/")
    assert await listing(client, headers, "/files/artifact/models/") == [
        folder_info("artifact/models/v1/")
    ]


async def test_a_folder_is_not_created_outside_the_upload_folders(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.post("/files/log/mine/", headers=headers)

    assert [loc for loc, _ in await validation_errors(response)] == [["path", "type"]]
    assert await listing(client, headers, "/files/log/") == []


async def test_a_rename_answers_the_file_at_its_new_path(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "old.txt", b"content")

    response = await client.put(
        "/files/data/old.txt", json={"path": "data/b/new.txt"}, headers=headers
    )

    assert response.status == 200
    assert timeless(await response.json()) == file_info("data/b/new.txt", "7 Bytes", 7)
    assert [entry["path"] for entry in await listing(client, headers, "/files/data/")] == [
        "data/b/"
    ]
    download = await client.get("/files/data/b/new.txt/download", headers=headers)
    assert await download.read() == b"content"


async def test_an_empty_folder_can_be_renamed(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()
    await client.post("/files/data/before/", headers=headers)

    response = await client.put("/files/data/before/", json={"path": "data/after"}, headers=headers)

    assert response.status == 200
    assert (await response.json())["path"] == "data/after/"


async def test_renaming_nothing_is_not_found(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.put("/files/data/ghost.txt", json={"path": "data/x"}, headers=headers)

    assert response.status == 404


async def test_non_empty_and_top_folders_cannot_be_renamed(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/full", "a.txt", b"a")

    full = await client.put("/files/data/full", json={"path": "data/other"}, headers=headers)
    top = await client.put("/files/data", json={"path": "data2"}, headers=headers)
    root = await client.put("/files/", json={"path": "elsewhere"}, headers=headers)

    assert [full.status, top.status, root.status] == [405, 405, 405]
    assert "detail" in await full.json()
    assert [entry["path"] for entry in await listing(client, headers, "/files/data/")] == [
        "data/full/"
    ]


async def test_a_rename_onto_a_file_replaces_it_unless_told_not_to(
    client: Client, user_headers: TokenFactory
) -> None:
    await a_rename_onto_a_file_replaces_it_unless_told_not_to(client, await user_headers())


async def test_a_rename_onto_a_folder_is_a_conflict(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "a.txt", b"a")
    await uploaded(client, headers, "data/b.txt", "inside.txt", b"b")

    response = await client.put("/files/data/a.txt", json={"path": "data/b.txt"}, headers=headers)

    assert response.status == 409
    download = await client.get("/files/data/a.txt/download", headers=headers)
    assert await download.read() == b"a"


async def test_a_rename_without_a_new_path_is_rejected(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "a.txt", b"a")

    no_body = await client.put("/files/data/a.txt", headers=headers)
    empty = await client.put("/files/data/a.txt", json={"path": ""}, headers=headers)

    assert [loc for loc, _ in await validation_errors(no_body)] == [["body", "path"]]
    assert [loc for loc, _ in await validation_errors(empty)] == [["body", "path"]]


async def test_a_file_and_a_folder_are_deleted(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp1", "a.txt", b"a")
    await uploaded(client, headers, "data/exp2/sub", "b.txt", b"b")

    file_deleted = await client.delete("/files/data/exp1/a.txt", headers=headers)
    folder_deleted = await client.delete("/files/data/exp2", headers=headers)

    assert file_deleted.status == 204
    assert folder_deleted.status == 204
    assert await listing(client, headers, "/files/data/?recursive=true") == [
        folder_info("data/exp1/")
    ]


async def test_deleting_nothing_still_succeeds(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.delete("/files/data/never-there.txt", headers=headers)

    assert response.status == 204


async def test_deleting_a_top_folder_or_the_root_empties_it_but_keeps_it(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp1", "a.txt", b"a")
    await uploaded(client, headers, "config/", "c.yaml", b"c")

    data_deleted = await client.delete("/files/data", headers=headers)
    after_data = await listing(client, headers, "/files/?recursive=true")
    root_deleted = await client.delete("/files/", headers=headers)
    after_root = await listing(client, headers, "/files/?recursive=true")

    assert data_deleted.status == 204
    assert [entry["path"] for entry in after_data] == [
        "artifact/",
        "config/",
        "config/c.yaml",
        "data/",
        "log/",
        "output/",
    ]
    assert root_deleted.status == 204
    assert after_root == ROOT_LISTING


async def test_every_files_endpoint_is_documented(client: Client) -> None:
    response = await client.get("/docs/swagger.json")
    spec = await response.json()

    operations = {
        (path, method): operation
        for path, methods in spec["paths"].items()
        if path.startswith("/files")
        for method, operation in methods.items()
        if method != "head"
    }

    assert set(operations) == {
        ("/files/{path}/download", "get"),
        ("/files/{path}/url", "get"),
        ("/files/{path}", "get"),
        ("/files/{path}", "put"),
        ("/files/{path}", "delete"),
        ("/files/{type}/{dir}/upload", "post"),
        ("/files/{type}/upload", "post"),
        ("/files/{type}/{dir}/url", "post"),
        ("/files/{type}/{dir}/", "post"),
    }
    for operation in operations.values():
        assert operation["tags"] == ["Files"]
        assert operation["summary"]
    upload_parameters = operations[("/files/{type}/{dir}/upload", "post")]["parameters"]
    assert {"in": "formData", "name": "file", "type": "file", "required": True} in upload_parameters
    type_parameter = next(p for p in upload_parameters if p["name"] == "type")
    assert type_parameter["enum"] == ["config", "data", "artifact"]
    assert "FileInfo" in str(operations[("/files/{path}", "get")]["responses"]["200"])
    assert "FileHTTPRequest" in str(operations[("/files/{path}/url", "get")]["responses"]["200"])
