"""The contract's Applications and Jobs sections, through the real application."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.databases import database_url as database_url
from tests.fakes import RecordingWorkerQueue
from tests.http.jobs_fixtures import alice as alice
from tests.http.jobs_fixtures import bob as bob
from tests.http.jobs_fixtures import environ as environ
from tests.http.jobs_fixtures import files as files
from tests.http.jobs_fixtures import queue as queue
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of, with_files_down
from tests.http.validation import validation_errors
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.ports.worker_queue import DeliveryRejected, DeliveryUnavailable
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]
JOB_FIELDS = {
    "id",
    "job_name",
    "environment",
    "priority",
    "application",
    "attributes",
    "hardware",
    "user_id",
    "user_email",
    "status",
    "date_created",
    "date_started",
    "date_finished",
    "runtime_details",
    "paths_out",
}


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory,
    settings: Settings,
    identity: Identity | None,
    queue: RecordingWorkerQueue,
) -> Client:
    return await aiohttp_client(create_app(settings, identity=identity, worker_queue=queue))


async def start(client: Client, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await client.post("/jobs", json=job_body(**changes), headers=headers)
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


@pytest.fixture
def configured_catalogue(reference_catalogue: Path) -> Any:
    return yaml.safe_load(reference_catalogue.read_text())


async def test_the_catalogue_is_served_as_configured(
    client: Client, alice: dict[str, str], configured_catalogue: Any
) -> None:
    response = await client.get("/jobs/applications", headers=alice)

    assert response.status == 200
    assert await response.json() == configured_catalogue


async def test_jobs_need_a_token(client: Client) -> None:
    for method, path in [
        ("GET", "/jobs/applications"),
        ("GET", "/jobs"),
        ("POST", "/jobs"),
        ("GET", "/jobs/1"),
        ("DELETE", "/jobs/1"),
    ]:
        response = await client.request(method, path)
        assert response.status == 401, (method, path)


async def test_a_started_job_is_answered_queued_with_the_contracts_fields(
    client: Client, alice: dict[str, str], queue: RecordingWorkerQueue
) -> None:
    hardware = {"cpu_cores": 4, "memory": 8000, "gpu_model": None, "gpu_archi": None, "gpu_mem": 8}
    response = await client.post(
        "/jobs", json=job_body(hardware=hardware, environment="local"), headers=alice
    )

    assert response.status == 201
    job = await response.json()
    assert set(job) == JOB_FIELDS
    assert isinstance(job["id"], int)
    assert job["job_name"] == "run1"
    assert job["status"] == "queued"
    assert job["environment"] == "local"
    assert job["priority"] == 1
    assert job["application"] == job_body()["application"]
    assert job["attributes"] == job_body()["attributes"]
    assert job["hardware"] == hardware
    assert job["user_id"] == user_id_of(alice)
    assert job["user_email"] == "alice@example.org"
    assert datetime.fromisoformat(job["date_created"]).tzinfo is not None
    assert (job["date_started"], job["date_finished"], job["runtime_details"]) == (None, None, None)
    assert job["paths_out"] == {
        "output": "output/run1",
        "log": "log/run1",
        "artifact": "artifact/run1",
    }
    assert [payload["job"]["meta"]["job_id"] for payload in queue.sent] == [job["id"]]


async def test_a_missing_priority_becomes_zero_and_ids_may_be_left_out(
    client: Client, alice: dict[str, str]
) -> None:
    body = job_body(attributes={"files_down": {"config_id": "exp1/"}})
    del body["priority"], body["environment"], body["hardware"]

    response = await client.post("/jobs", json=body, headers=alice)

    assert response.status == 201, await response.text()
    job = await response.json()
    assert (job["priority"], job["environment"], job["hardware"]) == (0, None, None)
    assert job["attributes"] == {
        "files_down": {"config_id": "exp1", "data_ids": [], "artifact_ids": []},
        "env_vars": {},
    }


@pytest.mark.parametrize(
    ("application", "field", "named"),
    [
        (
            {"application": "nope", "version": "v0_10_1", "entrypoint": "train"},
            "application",
            "nope",
        ),
        ({"application": "decode", "version": "v9", "entrypoint": "train"}, "version", "v9"),
        (
            {"application": "decode", "version": "v0_10_1", "entrypoint": "nope"},
            "entrypoint",
            "nope",
        ),
    ],
)
async def test_an_unknown_application_version_or_entrypoint_is_422_in_the_list_shape(
    client: Client, alice: dict[str, str], application: dict[str, str], field: str, named: str
) -> None:
    response = await client.post("/jobs", json=job_body(application=application), headers=alice)

    [(loc, msg)] = await validation_errors(response)
    assert loc == ["body", "application", field]
    assert named in msg


async def test_a_forbidden_env_var_is_422_in_the_list_shape(
    client: Client, alice: dict[str, str]
) -> None:
    attributes = {"files_down": {"config_id": "exp1"}, "env_vars": {"LD_PRELOAD": "x"}}
    response = await client.post("/jobs", json=job_body(attributes=attributes), headers=alice)

    [(loc, msg)] = await validation_errors(response)
    assert loc == ["body", "attributes", "env_vars", "LD_PRELOAD"]
    assert "LD_PRELOAD" in msg


@pytest.mark.parametrize("priority", [-1, 6])
async def test_a_priority_outside_zero_to_five_is_422_in_the_list_shape(
    client: Client, alice: dict[str, str], priority: int
) -> None:
    response = await client.post("/jobs", json=job_body(priority=priority), headers=alice)

    [(loc, msg)] = await validation_errors(response)
    assert loc == ["body", "priority"]
    assert "priority" in msg


_FILES_DOWN = ["body", "attributes", "files_down"]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"job_name": "../escape"}, ["body", "job_name"]),
        ({"job_name": "/abs"}, ["body", "job_name"]),
        ({"job_name": "a\\b"}, ["body", "job_name"]),
        ({"job_name": "a\x00b"}, ["body", "job_name"]),
        (
            {"attributes": with_files_down(config_id="../../other/config/exp1")},
            [*_FILES_DOWN, "config_id"],
        ),
        ({"attributes": with_files_down(config_id="/etc")}, [*_FILES_DOWN, "config_id"]),
        (
            {"attributes": with_files_down(config_id="exp1", data_ids=["a", "..\\..\\x"])},
            [*_FILES_DOWN, "data_ids", 1],
        ),
        (
            {"attributes": with_files_down(config_id="exp1", artifact_ids=["m/../../.."])},
            [*_FILES_DOWN, "artifact_ids", 0],
        ),
    ],
)
async def test_paths_that_could_leave_the_callers_tree_are_422(
    client: Client,
    alice: dict[str, str],
    changes: dict[str, Any],
    loc: list[Any],
    queue: RecordingWorkerQueue,
) -> None:
    response = await client.post("/jobs", json=job_body(**changes), headers=alice)

    assert [place for place, _ in await validation_errors(response)] == [loc]
    assert queue.calls == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"job_name": "run1"},
            [
                (["body", "application"], "Field required"),
                (["body", "attributes"], "Field required"),
            ],
        ),
        (
            job_body(environment="mars"),
            [(["body", "environment"], "Must be one of: cloud, local.")],
        ),
        (job_body(priority="high"), [(["body", "priority"], "Not a valid integer.")]),
        (
            job_body(attributes={"env_vars": {}}),
            [(["body", "attributes", "files_down"], "Field required")],
        ),
        (
            job_body(application={"application": "decode"}),
            [
                (["body", "application", "entrypoint"], "Field required"),
                (["body", "application", "version"], "Field required"),
            ],
        ),
    ],
)
async def test_a_body_not_matching_the_schema_is_422_in_the_list_shape(
    client: Client, alice: dict[str, str], body: dict[str, Any], errors: list[Any]
) -> None:
    response = await client.post("/jobs", json=body, headers=alice)

    assert sorted(await validation_errors(response)) == errors


@pytest.mark.parametrize(
    ("files_down", "missing"),
    [
        ({"config_id": "nope"}, "config/nope"),
        ({"config_id": "exp1", "data_ids": ["beads", "nope"]}, "data/nope"),
        ({"config_id": "exp1", "artifact_ids": ["nope"]}, "artifact/nope"),
    ],
)
async def test_a_missing_input_folder_is_400_naming_it(
    client: Client, alice: dict[str, str], files_down: dict[str, Any], missing: str
) -> None:
    attributes = {"files_down": files_down, "env_vars": {}}
    response = await client.post("/jobs", json=job_body(attributes=attributes), headers=alice)

    assert response.status == 400
    assert missing in (await response.json())["detail"]


async def test_another_users_folders_are_not_inputs(
    client: Client, alice: dict[str, str], bob: dict[str, str], files: UserFiles
) -> None:
    await files.put(user_id_of(bob), "config/bobs_only/param.yaml")
    body = job_body(attributes=with_files_down(config_id="bobs_only"))

    response = await client.post("/jobs", json=body, headers=alice)

    assert response.status == 400


async def test_a_job_name_the_user_already_has_is_409(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    await start(client, alice)
    await start(client, bob)

    response = await client.post("/jobs", json=job_body(), headers=alice)

    assert response.status == 409


async def test_a_job_the_worker_side_rejects_is_502_with_its_detail_and_not_kept(
    client: Client, alice: dict[str, str], queue: RecordingWorkerQueue
) -> None:
    queue.answers.append(DeliveryRejected("worker API rejected the job (422): bad hardware"))

    response = await client.post("/jobs", json=job_body(), headers=alice)

    assert response.status == 502
    assert (await response.json())["detail"] == "worker API rejected the job (422): bad hardware"
    assert await (await client.get("/jobs", headers=alice)).json() == []
    await start(client, alice)


async def test_a_job_the_worker_side_cannot_take_yet_is_still_201_queued(
    client: Client, alice: dict[str, str], queue: RecordingWorkerQueue
) -> None:
    queue.answers.append(DeliveryUnavailable("worker API answered 503"))

    job = await start(client, alice)

    assert job["status"] == "queued"
    assert queue.sent == []
    listed = await (await client.get("/jobs", headers=alice)).json()
    assert [entry["id"] for entry in listed] == [job["id"]]


async def test_unknown_fields_are_ignored(client: Client, alice: dict[str, str]) -> None:
    await start(client, alice, colour="blue")


async def test_the_callers_jobs_are_listed_newest_first_in_pages(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    ids = [(await start(client, alice, job_name=f"run{number}"))["id"] for number in range(3)]
    await start(client, bob, job_name="bobs")

    everything = await client.get("/jobs", headers=alice)
    page = await client.get("/jobs", params={"offset": "1", "limit": "1"}, headers=alice)

    assert everything.status == 200
    listed = await everything.json()
    assert [job["id"] for job in listed] == ids[::-1]
    assert all(set(job) == JOB_FIELDS for job in listed)
    assert [job["id"] for job in await page.json()] == [ids[1]]


@pytest.mark.parametrize("query", [{"offset": "-1"}, {"limit": "-1"}, {"limit": "many"}])
async def test_a_bad_page_is_422(
    client: Client, alice: dict[str, str], query: dict[str, str]
) -> None:
    response = await client.get("/jobs", params=query, headers=alice)

    [(loc, _)] = await validation_errors(response)
    assert loc == ["query", *query]


async def test_a_job_id_that_is_not_a_number_is_422_in_the_list_shape(
    client: Client, alice: dict[str, str]
) -> None:
    response = await client.get("/jobs/abc", headers=alice)

    assert [loc for loc, _ in await validation_errors(response)] == [["path", "job_id"]]


async def test_a_job_is_described_to_its_owner_only(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    job = await start(client, alice)

    own = await client.get(f"/jobs/{job['id']}", headers=alice)
    others = await client.get(f"/jobs/{job['id']}", headers=bob)
    missing = await client.get("/jobs/999999", headers=alice)

    assert own.status == 200
    assert await own.json() == job
    assert others.status == 404
    assert missing.status == 404
    assert "detail" in await missing.json()


async def test_deleting_a_job_removes_it_and_its_result_folders(
    client: Client, alice: dict[str, str], files: UserFiles
) -> None:
    job = await start(client, alice)
    owner = user_id_of(alice)
    for folder in ("output/run1", "log/run1", "artifact/run1", "output/run10"):
        await files.put(owner, f"{folder}/result.txt")

    response = await client.delete(f"/jobs/{job['id']}", headers=alice)

    assert response.status == 204
    assert (await client.get(f"/jobs/{job['id']}", headers=alice)).status == 404
    assert not any(files.exists(owner, f) for f in ("output/run1", "log/run1", "artifact/run1"))
    assert files.exists(owner, "output/run10/result.txt")
    assert files.exists(owner, "config/exp1/param.yaml")


async def test_deleting_a_missing_or_another_users_job_is_404(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    job = await start(client, alice)

    assert (await client.delete(f"/jobs/{job['id']}", headers=bob)).status == 404
    assert (await client.delete("/jobs/999999", headers=alice)).status == 404
    assert (await client.get(f"/jobs/{job['id']}", headers=alice)).status == 200


async def test_the_jobs_endpoints_are_documented(client: Client) -> None:
    spec = await (await client.get("/docs/swagger.json")).json()

    assert spec["paths"]["/jobs/applications"]["get"]["tags"] == ["Jobs"]
    for method in ("get", "post"):
        assert spec["paths"]["/jobs"][method]["tags"] == ["Jobs"]
    for method in ("get", "delete"):
        assert spec["paths"]["/jobs/{job_id}"][method]["tags"] == ["Jobs"]
    body = [
        param for param in spec["paths"]["/jobs"]["post"]["parameters"] if param["in"] == "body"
    ]
    assert body[0]["schema"] == {"$ref": "#/definitions/JobCreate"}
    assert "Job" in spec["definitions"]
