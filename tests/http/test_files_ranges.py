"""Byte ranges and conditional requests on file downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client, uploaded
from userfacing_api.adapters.http.conditional import (
    Validators,
    is_not_modified,
    range_applies,
    validators_of,
)
from userfacing_api.adapters.http.ranges import ByteRange, RangeNotSatisfiable, requested_range
from userfacing_api.domain.files import FileInfo, FileType

CONTENT = bytes(range(100))
TARGET = "/files/data/r/bytes.bin/download"


async def current_validators(client: Client, headers: dict[str, str]) -> tuple[str, str]:
    """The `ETag` and `Last-Modified` of a full download (read to the end)."""
    response = await client.get(TARGET, headers=headers)
    assert await response.read() == CONTENT
    return response.headers["ETag"], response.headers["Last-Modified"]


@pytest.fixture
async def headers(client: Client, user_headers: TokenFactory) -> dict[str, str]:
    headers = await user_headers()
    await uploaded(client, headers, "data/r", "bytes.bin", CONTENT)
    return headers


async def test_a_range_answers_206_with_those_bytes(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.get(TARGET, headers={**headers, "Range": "bytes=10-19"})

    assert response.status == 206
    assert await response.read() == CONTENT[10:20]
    assert response.headers["Content-Range"] == "bytes 10-19/100"
    assert response.headers["Content-Length"] == "10"


async def test_a_suffix_range_answers_the_last_bytes(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.get(TARGET, headers={**headers, "Range": "bytes=-5"})

    assert response.status == 206
    assert await response.read() == CONTENT[-5:]
    assert response.headers["Content-Range"] == "bytes 95-99/100"


async def test_an_open_range_runs_to_the_end_and_a_long_one_is_cut_there(
    client: Client, headers: dict[str, str]
) -> None:
    open_ended = await client.get(TARGET, headers={**headers, "Range": "bytes=90-"})
    too_long = await client.get(TARGET, headers={**headers, "Range": "bytes=98-500"})

    assert await open_ended.read() == CONTENT[90:]
    assert too_long.status == 206
    assert await too_long.read() == CONTENT[98:]
    assert too_long.headers["Content-Range"] == "bytes 98-99/100"


async def test_a_range_beyond_the_end_answers_416(client: Client, headers: dict[str, str]) -> None:
    response = await client.get(TARGET, headers={**headers, "Range": "bytes=100-"})

    assert response.status == 416
    assert response.headers["Content-Range"] == "bytes */100"
    assert "detail" in await response.json()


async def test_several_ranges_or_a_garbled_one_get_the_whole_file(
    client: Client, headers: dict[str, str]
) -> None:
    several = await client.get(TARGET, headers={**headers, "Range": "bytes=0-1,5-6"})
    garbled = await client.get(TARGET, headers={**headers, "Range": "lines=1-2"})

    assert several.status == 200
    assert await several.read() == CONTENT
    assert garbled.status == 200
    assert await garbled.read() == CONTENT


async def test_a_matching_etag_answers_304_without_a_body(
    client: Client, headers: dict[str, str]
) -> None:
    etag, _ = await current_validators(client, headers)

    again = await client.get(TARGET, headers={**headers, "If-None-Match": etag})
    weak = await client.get(TARGET, headers={**headers, "If-None-Match": f'"other", W/{etag}'})
    other = await client.get(TARGET, headers={**headers, "If-None-Match": '"other"'})

    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    assert weak.status == 304
    assert other.status == 200
    assert await other.read() == CONTENT


async def test_an_unchanged_file_since_the_given_date_answers_304(
    client: Client, headers: dict[str, str]
) -> None:
    _, last_modified = await current_validators(client, headers)
    earlier = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)

    unchanged = await client.get(TARGET, headers={**headers, "If-Modified-Since": last_modified})
    changed = await client.get(TARGET, headers={**headers, "If-Modified-Since": earlier})

    assert unchanged.status == 304
    assert changed.status == 200
    assert await changed.read() == CONTENT


async def test_if_range_sends_the_range_only_for_the_current_version(
    client: Client, headers: dict[str, str]
) -> None:
    etag, _ = await current_validators(client, headers)

    current = await client.get(TARGET, headers={**headers, "Range": "bytes=0-9", "If-Range": etag})
    stale = await client.get(
        TARGET, headers={**headers, "Range": "bytes=0-9", "If-Range": '"stale"'}
    )

    assert current.status == 206
    assert await current.read() == CONTENT[:10]
    assert stale.status == 200
    assert await stale.read() == CONTENT


async def test_a_head_request_answers_the_headers_only(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.head(TARGET, headers=headers)

    assert response.status == 200
    assert response.headers["Content-Length"] == "100"
    assert await response.read() == b""


async def test_an_empty_file_downloads_as_nothing(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/", "empty.txt", b"")

    response = await client.get("/files/data/empty.txt/download", headers=headers)

    assert response.status == 200
    assert await response.read() == b""


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 1, 10)),
        ("bytes=3-", ByteRange(3, 10, 10)),
        ("bytes=-3", ByteRange(7, 10, 10)),
        ("bytes=-30", ByteRange(0, 10, 10)),
        ("bytes=5-2", None),
        ("bytes=-", None),
        ("bytes=0-1,3-4", None),
        ("items=0-1", None),
    ],
)
def test_range_headers_are_read_as_the_rfc_says(
    header: str | None, expected: ByteRange | None
) -> None:
    assert requested_range(header, 10) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-1", 0)])
def test_ranges_without_a_byte_of_the_file_are_not_satisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        requested_range(header, size)


def test_a_file_without_an_etag_gets_one_from_its_size_and_time() -> None:
    modified = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    info = FileInfo(path="a", type=FileType.FILE, size=3, modified=modified)
    changed = FileInfo(path="a", type=FileType.FILE, size=3, modified=modified + timedelta(1))

    validators = validators_of(info)

    assert validators.etag is not None
    assert validators.etag.startswith('"')
    assert validators.etag != validators_of(changed).etag


def test_an_unquoted_storage_etag_is_quoted() -> None:
    info = FileInfo(path="a", type=FileType.FILE, size=3, etag="abc")

    assert validators_of(info).etag == '"abc"'


def test_a_weak_etag_never_satisfies_if_range() -> None:
    validators = Validators(etag='W/"abc"', last_modified=None)

    assert not range_applies({"If-Range": 'W/"abc"'}, validators)
    assert is_not_modified({"If-None-Match": '"abc"'}, validators)


def test_a_garbled_date_is_ignored() -> None:
    validators = Validators(etag=None, last_modified=datetime(2024, 5, 1, tzinfo=UTC))

    assert not is_not_modified({"If-Modified-Since": "yesterday"}, validators)
    assert not range_applies({"If-Range": "yesterday"}, validators)
