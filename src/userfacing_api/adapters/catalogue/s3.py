"""The application catalogue from a YAML object in S3 (`s3://bucket/key`), re-read when it changes.

A check is one `HeadObject`; the object is fetched again only when its ETag or
LastModified differ from those of the copy in use. See `reloading` for when
checks happen and what a failed reload does.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from userfacing_api.adapters.catalogue.reloading import Document, ReloadingCatalogue
from userfacing_api.ports.catalogue import CatalogueUnreadable

S3_CHECK_INTERVAL = 0.0
"""Seconds between two checks of the object: by default every request that needs the
catalogue checks it (one `HeadObject`), so an upload is visible to the next request."""

S3_CATALOGUE_CONFIG = AioConfig(
    connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}
)
"""Short, because a check runs while a request waits for the catalogue."""

_REASONS = {
    "NoSuchKey": "no such object",
    "NoSuchBucket": "no such bucket",
    "404": "no such object or bucket",
    "AccessDenied": "access denied",
    "403": "access denied",
}

Version = tuple[str, str]


class S3YamlObject:
    """A catalogue source in S3, read through an open aiobotocore S3 client."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key

    @property
    def name(self) -> str:
        return f"s3://{self._bucket}/{self._key}"

    async def version(self) -> Version:
        with self._s3_errors():
            head = await self._client.head_object(Bucket=self._bucket, Key=self._key)
        return _version_of(head)

    async def read(self) -> Document:
        with self._s3_errors():
            response = await self._client.get_object(Bucket=self._bucket, Key=self._key)
            async with response["Body"] as body:
                content: bytes = await body.read()
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CatalogueUnreadable(f"{self.name}: not UTF-8 text") from err
        return Document(text=text, version=_version_of(response))

    @contextmanager
    def _s3_errors(self) -> Iterator[None]:
        try:
            yield
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", "unknown error"))
            reason = _REASONS.get(code, "S3 refused the request")
            raise CatalogueUnreadable(f"{self.name}: {reason} ({code})") from err
        except (TimeoutError, BotoCoreError, aiohttp.ClientError) as err:
            raise CatalogueUnreadable(
                f"{self.name}: S3 cannot be reached ({type(err).__name__})"
            ) from err


def split_s3_uri(uri: str) -> tuple[str, str]:
    """The bucket and key of `s3://bucket/key`; `CatalogueUnreadable` for anything else."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key or key.endswith("/"):
        raise CatalogueUnreadable(f"{uri}: not an S3 object URI, accepted: s3://bucket/key")
    return bucket, key


async def load_s3_catalogue(
    client: Any,
    uri: str,
    *,
    check_interval: float = S3_CHECK_INTERVAL,
    monotonic: Callable[[], float] = time.monotonic,
) -> ReloadingCatalogue:
    """Read the catalogue at `uri` with `client`, which must stay open while it is used.

    `CatalogueUnreadable` or `InvalidCatalogue` if the object cannot serve.
    """
    bucket, key = split_s3_uri(uri)
    return await ReloadingCatalogue.from_source(
        S3YamlObject(client, bucket, key), check_interval=check_interval, monotonic=monotonic
    )


@asynccontextmanager
async def open_s3_catalogue(
    uri: str,
    region: str | None,
    *,
    check_interval: float = S3_CHECK_INTERVAL,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncIterator[ReloadingCatalogue]:
    """The catalogue at `uri`, with an S3 client of its own that lives as long as the context.

    Credentials and endpoint come from the standard AWS configuration; `region`
    is where the client starts (the SDK follows S3 to the bucket's own region).
    """
    session = aioboto3.Session()
    async with session.client("s3", region_name=region, config=S3_CATALOGUE_CONFIG) as client:
        yield await load_s3_catalogue(
            client, uri, check_interval=check_interval, monotonic=monotonic
        )


def _version_of(response: dict[str, Any]) -> Version:
    """The ETag and LastModified of a head or get answer: what changes with the object."""
    return (str(response["ETag"]), response["LastModified"].isoformat())
