"""One scientist's whole session on the cloud deployment: S3 storage and Cognito (moto).

The user registers, logs in against Cognito themselves, moves files with
presigned requests, runs a job that a stand-in worker side receives and reports
on, fetches its output and cleans up, all through the HTTP API.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aioboto3
import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.http.files_helpers import file_info, json_of, timeless
from tests.http.jobs_helpers import job_body, user_id_of
from tests.integration.cognito_pool import PASSWORD, CognitoPool, cognito_client
from tests.integration.fakes_http import FakeWorkerApi
from tests.integration.moto import MOTO_REGION

Client = TestClient[web.Request, web.Application]

ALICE = "alice@example.org"
PREFIX = "user_data"
CATALOGUE_KEY = "config/application_config.yaml"
INPUTS = {
    "config/c1": {"param.yaml": b"camera: {gain: 2}\n"},
    "data/d1": {"calib.mat": b"MATLAB 5.0 MAT-file", "frames.tif": b"II*\x00" + bytes(60)},
}
OUTPUTS = {
    "output": {"emitter.h5": b"\x89HDF\r\n\x1a\n" + bytes(100)},
    "log": {"train.log": b"epoch 1: loss 0.5\n"},
    "artifact": {"model/model_0.pt": b"weights"},
}


@dataclass(frozen=True)
class AppClient:
    """The Cognito app client the service is configured with, as the frontend would use it."""

    client_id: str
    secret: str | None

    def auth_parameters(self, username: str) -> dict[str, str]:
        parameters = {"USERNAME": username, "PASSWORD": PASSWORD}
        if self.secret is not None:
            digest = hmac.new(
                self.secret.encode(), (username + self.client_id).encode(), hashlib.sha256
            ).digest()
            parameters["SECRET_HASH"] = base64.b64encode(digest).decode()
        return parameters


@pytest.fixture(params=["public client", "client with a secret"])
def app_client(request: pytest.FixtureRequest, cognito_pool: CognitoPool) -> AppClient:
    if request.param == "public client":
        return AppClient(cognito_pool.client_id, None)
    return AppClient(cognito_pool.secret_client_id, cognito_pool.client_secret)


@pytest.fixture
async def s3(moto_endpoint: str) -> AsyncIterator[Any]:
    """A plain S3 client in the bucket's region, for arranging and inspecting the bucket."""
    async with aioboto3.Session().client("s3", region_name=MOTO_REGION) as client:
        yield client


@pytest.fixture
def catalogue_bytes(reference_catalogue: Path) -> bytes:
    return reference_catalogue.read_bytes()


@pytest.fixture
async def bucket(s3: Any, catalogue_bytes: bytes) -> str:
    """A fresh bucket holding the reference catalogue, as a deployment would."""
    name = f"cloud-{uuid4().hex}"
    await s3.create_bucket(Bucket=name)
    await s3.put_object(Bucket=name, Key=CATALOGUE_KEY, Body=catalogue_bytes)
    return name


@pytest.fixture
def environ(
    environ: dict[str, str],
    bucket: str,
    cognito_pool: CognitoPool,
    app_client: AppClient,
    fake_worker_api: FakeWorkerApi,
) -> dict[str, str]:
    """The cloud deployment: S3 storage and catalogue, Cognito, a worker side."""
    cloud = {
        **environ,
        **cognito_pool.environ(COGNITO_CLIENT_ID=app_client.client_id),
        "FILESYSTEM": "s3",
        "S3_BUCKET": bucket,
        "S3_REGION": MOTO_REGION,
        "USER_DATA_ROOT_PATH": PREFIX,
        "APPLICATION_CONFIG_FILE": f"s3://{bucket}/{CATALOGUE_KEY}",
        "WORKERFACING_API_URL": fake_worker_api.url,
        "INTERNAL_API_KEY_SECRET": fake_worker_api.api_key,
    }
    if app_client.secret is not None:
        cloud["COGNITO_SECRET"] = app_client.secret
    return cloud


async def keys_below(s3: Any, bucket: str, prefix: str) -> list[str]:
    answer = await s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in answer.get("Contents", []))


async def log_in_with_cognito(client: Client, app_client: AppClient) -> dict[str, str]:
    """Log in as a frontend does: the pool named by /access_info, Cognito's own API."""
    info = (await json_of(await client.get("/access_info"), 200))["cognito"]
    assert info == {
        "user_pool_id": info["user_pool_id"],
        "client_id": app_client.client_id,
        "region": MOTO_REGION,
    }
    login = await asyncio.to_thread(
        cognito_client().initiate_auth,
        ClientId=info["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters=app_client.auth_parameters(ALICE),
    )
    return {"Authorization": f"Bearer {login['AuthenticationResult']['IdToken']}"}


async def upload_through_presigned_post(
    client: Client, http: aiohttp.ClientSession, headers: dict[str, str], folder: str
) -> None:
    upload = await json_of(await client.post(f"/files/{folder}/url", headers=headers), 201)
    for name, content in INPUTS[folder].items():
        form = aiohttp.FormData(upload["data"])
        form.add_field("file", content, filename=name)
        async with http.request(
            upload["method"], upload["url"], headers=upload["headers"], data=form
        ) as sent:
            assert sent.status in (200, 201, 204), await sent.text()


async def report(client: Client, api_key: str, job_id: int, status: str) -> None:
    body = {"job_id": job_id, "status": status, "runtime_details": f"now {status}"}
    response = await client.put("/_job_status", json=body, headers={"x-api-key": api_key})
    assert await json_of(response, 200) == status


async def test_a_user_runs_a_job_from_upload_to_clean_up(
    client: Client,
    app_client: AppClient,
    fake_worker_api: FakeWorkerApi,
    s3: Any,
    bucket: str,
) -> None:
    registered = await client.post("/user", data={"username": ALICE, "password": PASSWORD})
    assert await json_of(registered, 201) == {"email": ALICE, "groups": ["users"]}
    headers = await log_in_with_cognito(client, app_client)
    me = await json_of(await client.get("/user", headers=headers), 200)
    assert me == {"email": ALICE, "groups": ["users"]}
    user = user_id_of(headers)
    tree = f"s3://{bucket}/{PREFIX}/{user}"

    async with aiohttp.ClientSession() as http:
        for folder in INPUTS:
            await upload_through_presigned_post(client, http, headers, folder)
        listed = await json_of(await client.get("/files/data/d1", headers=headers), 200)
        assert [timeless(entry) for entry in listed] == [
            file_info("data/d1/calib.mat", "19 Bytes", 19),
            file_info("data/d1/frames.tif", "64 Bytes", 64),
        ]

        body = job_body(
            attributes={
                "files_down": {"config_id": "c1", "data_ids": ["d1"], "artifact_ids": []},
                "env_vars": {},
            }
        )
        job = await json_of(await client.post("/jobs", json=body, headers=headers), 201)
        assert job["status"] == "queued"
        assert job["user_email"] == ALICE

        [received] = await fake_worker_api.wait_for_jobs(1)
        payload = received.body
        assert payload["job"]["meta"]["job_id"] == job["id"]
        assert payload["job"]["handler"]["files_down"] == {
            "config/param.yaml": f"{tree}/config/c1/param.yaml",
            "data/calib.mat": f"{tree}/data/d1/calib.mat",
            "data/frames.tif": f"{tree}/data/d1/frames.tif",
        }
        assert payload["paths_upload"] == {
            kind: f"{tree}/{kind}/run1" for kind in ("output", "log", "artifact")
        }

        for kind, files in OUTPUTS.items():
            prefix = payload["paths_upload"][kind].removeprefix(f"s3://{bucket}/")
            for name, content in files.items():
                await s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=content)
        for status in ("pulled", "running", "finished"):
            await report(client, fake_worker_api.api_key, job["id"], status)

        finished = await json_of(await client.get(f"/jobs/{job['id']}", headers=headers), 200)
        assert finished["status"] == "finished"
        assert finished["date_started"] is not None
        assert finished["date_finished"] is not None
        assert finished["runtime_details"].splitlines()[-3:] == [
            "now pulled",
            "now running",
            "now finished",
        ]

        output = await json_of(await client.get("/files/output/run1", headers=headers), 200)
        assert [timeless(entry) for entry in output] == [
            file_info("output/run1/emitter.h5", "108 Bytes", 108)
        ]
        fetch = await json_of(
            await client.get("/files/output/run1/emitter.h5/url", headers=headers), 200
        )
        assert fetch["method"] == "get"
        async with http.request(fetch["method"], fetch["url"], headers=fetch["headers"]) as got:
            assert got.status == 200
            assert await got.read() == OUTPUTS["output"]["emitter.h5"]

    for kind, files in OUTPUTS.items():
        assert await keys_below(s3, bucket, f"{PREFIX}/{user}/{kind}/run1") == [
            f"{PREFIX}/{user}/{kind}/run1/{name}" for name in files
        ]
    deleted = await client.delete(f"/jobs/{job['id']}", headers=headers)
    assert deleted.status == 204
    assert (await client.get(f"/jobs/{job['id']}", headers=headers)).status == 404
    for kind in OUTPUTS:
        assert await keys_below(s3, bucket, f"{PREFIX}/{user}/{kind}/run1") == []

    removed = await client.delete("/files/data/d1", headers=headers)
    assert removed.status == 204
    assert await keys_below(s3, bucket, f"{PREFIX}/{user}/data/d1/") == []
    assert await keys_below(s3, bucket, f"{PREFIX}/{user}/config/c1/") == [
        f"{PREFIX}/{user}/config/c1/param.yaml"
    ]


async def test_single_files_of_s3_are_job_inputs_placed_by_their_names(
    client: Client,
    app_client: AppClient,
    fake_worker_api: FakeWorkerApi,
    bucket: str,
) -> None:
    await client.post("/user", data={"username": ALICE, "password": PASSWORD})
    headers = await log_in_with_cognito(client, app_client)
    tree = f"s3://{bucket}/{PREFIX}/{user_id_of(headers)}"
    async with aiohttp.ClientSession() as http:
        for folder in INPUTS:
            await upload_through_presigned_post(client, http, headers, folder)
    files_down = {"config_id": "c1/param.yaml", "data_ids": ["d1/frames.tif"], "artifact_ids": []}
    body = job_body(attributes={"files_down": files_down, "env_vars": {}})

    job = await json_of(await client.post("/jobs", json=body, headers=headers), 201)

    [received] = await fake_worker_api.wait_for_jobs(1)
    handler = received.body["job"]["handler"]
    assert received.body["job"]["meta"]["job_id"] == job["id"]
    assert handler["files_down"] == {
        "config/param.yaml": f"{tree}/config/c1/param.yaml",
        "data/frames.tif": f"{tree}/data/d1/frames.tif",
    }
    assert received.body["paths_upload"] == {
        kind: f"{tree}/{kind}/run1" for kind in ("output", "log", "artifact")
    }
    missing = job_body("run2", attributes={"files_down": {"config_id": "c1/nothing.yaml"}})
    refused = await client.post("/jobs", json=missing, headers=headers)
    assert refused.status == 400
