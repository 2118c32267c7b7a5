"""Buckets, clients and storages on the moto server for the S3 storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import aioboto3
import pytest

from userfacing_api.adapters.storage.s3 import S3FileStorage, open_s3_storage
from userfacing_api.ports.storage import FileStorage

BUCKET_REGION = "eu-central-1"
"""Not the default region, so that the bucket's location is exercised too."""
USER_DATA_PREFIX = "user_data"


@asynccontextmanager
async def raw_s3_client() -> AsyncIterator[Any]:
    """A plain client, for arranging and inspecting a bucket behind the storage's back."""
    async with aioboto3.Session().client("s3", region_name=BUCKET_REGION) as client:
        yield client


async def create_bucket(client: Any) -> str:
    name = f"test-{uuid4().hex}"
    await client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION}
    )
    return name


@asynccontextmanager
async def contract_s3_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[FileStorage]:
    """A storage on a fresh bucket, laid out as the service is configured by default."""
    request.getfixturevalue("moto_endpoint")
    async with raw_s3_client() as client:
        bucket = await create_bucket(client)
    async with open_s3_storage(bucket, BUCKET_REGION, USER_DATA_PREFIX) as storage:
        yield storage


@pytest.fixture
async def s3_client(moto_endpoint: str) -> AsyncIterator[Any]:
    async with raw_s3_client() as client:
        yield client


@pytest.fixture
async def s3_bucket(s3_client: Any) -> str:
    return await create_bucket(s3_client)


@pytest.fixture
async def s3_storage(s3_bucket: str) -> AsyncIterator[S3FileStorage]:
    async with open_s3_storage(s3_bucket, BUCKET_REGION, USER_DATA_PREFIX) as storage:
        yield storage


@pytest.fixture
def environ(environ: dict[str, str], s3_bucket: str) -> dict[str, str]:
    """The default test deployment, with users' files in a fresh bucket (for the test
    modules that import it: the suite's `environ` keeps the local storage)."""
    return {
        **environ,
        "FILESYSTEM": "s3",
        "S3_BUCKET": s3_bucket,
        "S3_REGION": BUCKET_REGION,
        "USER_DATA_ROOT_PATH": USER_DATA_PREFIX,
    }
