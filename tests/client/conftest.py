"""A running service (local storage or S3 on moto, local identity or Cognito on moto),
a stand-in worker-facing API it hands jobs to, and a scientist logged in with the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import boto3
import pytest

from tests.client.cli import Cli, assert_ok
from tests.client.service import INTERNAL_KEY, PASSWORD, Service, running_service
from tests.integration.cognito_pool import CognitoPool
from tests.integration.cognito_pool import cognito_pool as cognito_pool
from tests.integration.fakes_http import FakeWorkerApi
from tests.integration.moto import MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY
from tests.integration.s3_support import BUCKET_REGION

SCIENTIST = "grace@example.org"


@dataclass(frozen=True)
class Deployment:
    service: Service
    worker: FakeWorkerApi
    storage: str
    """`local` or `s3`."""


def moto_environ(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": MOTO_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": MOTO_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture
async def worker() -> AsyncIterator[FakeWorkerApi]:
    server = FakeWorkerApi(api_key=INTERNAL_KEY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(params=["local", "s3"])
def storage_environ(request: pytest.FixtureRequest) -> dict[str, str]:
    """Local storage, or a fresh bucket on the moto server."""
    if request.param == "local":
        return {}
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"client-{uuid4().hex}"
    boto3.client("s3", region_name=BUCKET_REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION}
    )
    return {
        "FILESYSTEM": "s3",
        "S3_BUCKET": bucket,
        "S3_REGION": BUCKET_REGION,
        **moto_environ(endpoint),
    }


@pytest.fixture
async def deployment(
    tmp_path: Path,
    reference_catalogue: Path,
    worker: FakeWorkerApi,
    storage_environ: dict[str, str],
) -> AsyncIterator[Deployment]:
    """The service with local identity, on local storage and on S3."""
    environ = {"WORKERFACING_API_URL": worker.url, **storage_environ}
    async with running_service(tmp_path / "service", reference_catalogue, environ) as service:
        yield Deployment(service, worker, storage_environ.get("FILESYSTEM", "local"))


@pytest.fixture
async def local_deployment(
    tmp_path: Path, reference_catalogue: Path, worker: FakeWorkerApi
) -> AsyncIterator[Deployment]:
    environ = {"WORKERFACING_API_URL": worker.url}
    async with running_service(tmp_path / "service", reference_catalogue, environ) as service:
        yield Deployment(service, worker, "local")


@pytest.fixture
async def cognito_service(
    tmp_path: Path, reference_catalogue: Path, cognito_pool: CognitoPool
) -> AsyncIterator[Service]:
    environ = {**cognito_pool.environ(), **moto_environ(cognito_pool.endpoint)}
    async with running_service(tmp_path / "service", reference_catalogue, environ) as service:
        yield service


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home)


async def log_in(cli: Cli, service: Service, username: str = SCIENTIST) -> None:
    await service.register(username)
    assert_ok(
        await cli.run(
            "login",
            "--url",
            service.url,
            "--username",
            username,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )


@pytest.fixture
async def scientist(cli: Cli, deployment: Deployment) -> Cli:
    """The command line of a scientist logged in to `deployment`."""
    await log_in(cli, deployment.service)
    return cli


@pytest.fixture
async def local_scientist(cli: Cli, local_deployment: Deployment) -> Cli:
    await log_in(cli, local_deployment.service)
    return cli
