"""The contract's Internal endpoint: status reports from the worker-facing API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.databases import database_url as database_url
from tests.fakes import RecordingNotifier, RecordingWorkerQueue
from tests.http.jobs_fixtures import alice as alice
from tests.http.jobs_fixtures import environ as environ
from tests.http.jobs_fixtures import files as files
from tests.http.jobs_helpers import job_body
from tests.http.validation import validation_errors
from tests.waiting import eventually
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.settings import Settings, load_settings

Client = TestClient[web.Request, web.Application]
KEY = {"x-api-key": "internal-test-key"}


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory,
    settings: Settings,
    identity: Identity | None,
    notifier: RecordingNotifier,
) -> Client:
    app = create_app(
        settings, identity=identity, worker_queue=RecordingWorkerQueue(), notifier=notifier
    )
    return await aiohttp_client(app)


@pytest.fixture
async def job(client: Client, alice: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/jobs", json=job_body(), headers=alice)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def report(
    client: Client, job_id: int, status: str, details: str | None = None
) -> tuple[int, Any]:
    body = {"job_id": job_id, "status": status, "runtime_details": details}
    response = await client.put("/_job_status", json=body, headers=KEY)
    return response.status, await response.json()


async def described(client: Client, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    response = await client.get(f"/jobs/{job_id}", headers=headers)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_a_report_answers_200_with_the_status_as_a_json_string(
    client: Client, job: dict[str, Any]
) -> None:
    assert await report(client, job["id"], "running") == (200, "running")


async def test_reports_need_no_user_token_but_the_internal_key(
    client: Client, job: dict[str, Any]
) -> None:
    body = {"job_id": job["id"], "status": "running", "runtime_details": None}

    missing = await client.put("/_job_status", json=body)
    wrong = await client.put("/_job_status", json=body, headers={"x-api-key": "guess"})
    bearer = await client.put(
        "/_job_status", json=body, headers={"Authorization": "Bearer internal-test-key"}
    )

    assert missing.status in (401, 422)
    assert wrong.status == 401
    assert bearer.status in (401, 422)
    assert "detail" in await wrong.json()


async def test_without_a_configured_key_every_report_is_refused(
    aiohttp_client: ClientFactory, environ: dict[str, str]
) -> None:
    settings = load_settings({k: v for k, v in environ.items() if k != "INTERNAL_API_KEY_SECRET"})
    client = await aiohttp_client(create_app(settings))
    body = {"job_id": 1, "status": "running", "runtime_details": None}

    for headers in ({}, {"x-api-key": ""}, KEY):
        response = await client.put("/_job_status", json=body, headers=headers)
        assert response.status in (401, 422), headers


async def test_an_unknown_job_is_404(client: Client) -> None:
    status, body = await report(client, 999999, "running")
    assert status == 404
    assert "detail" in body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job_id": 1, "status": "exploded", "runtime_details": None}, "status"),
        ({"status": "running"}, "job_id"),
        ({"job_id": "one", "status": "running"}, "job_id"),
    ],
)
async def test_a_malformed_report_is_422_in_the_list_shape(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.put("/_job_status", json=body, headers=KEY)

    assert [loc for loc, _ in await validation_errors(response)] == [["body", field]]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{{"job_id": "{id}", "status": "running"}}', "application/json"),
        ('{{"job_id": {id}, "status": "running", "extra": [1]}}', "application/json"),
        ('{{"job_id": {id}, "status": "running"}}', "application/json; charset=utf-8"),
        ('{{"job_id": {id}.0, "status": "running"}}', "application/vnd.report+json"),
    ],
    ids=["id-as-text", "unknown-field", "charset", "id-as-float-in-a-json-subtype"],
)
async def test_reports_in_any_shape_the_schema_accepts_are_recorded(
    client: Client, alice: dict[str, str], job: dict[str, Any], body: str, content_type: str
) -> None:
    response = await client.put(
        "/_job_status",
        data=body.format(id=job["id"]).encode(),
        headers={**KEY, "Content-Type": content_type},
    )

    assert (response.status, await response.json()) == (200, "running")
    assert (await described(client, alice, job["id"]))["status"] == "running"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{{"job_id": {id}, "status": "running"}}', "text/plain"),
        ('{{"job_id": {id}, "status": "Running"}}', "application/json"),
        ('{{"job_id": {id}, "status": "running", "runtime_details": 3}}', "application/json"),
        ('[{{"job_id": {id}, "status": "running"}}]', "application/json"),
    ],
    ids=["not-declared-json", "unknown-status", "details-not-text", "not-an-object"],
)
async def test_reports_the_schema_refuses_are_422_and_change_nothing(
    client: Client, alice: dict[str, str], job: dict[str, Any], body: str, content_type: str
) -> None:
    response = await client.put(
        "/_job_status",
        data=body.format(id=job["id"]).encode(),
        headers={**KEY, "Content-Type": content_type},
    )

    assert response.status == 422
    assert isinstance((await response.json())["detail"], list | dict)
    assert (await described(client, alice, job["id"]))["status"] == "queued"


async def test_reports_set_dates_once_and_append_details(
    client: Client, alice: dict[str, str], job: dict[str, Any]
) -> None:
    await report(client, job["id"], "pulled", "on worker w1")
    started = (await described(client, alice, job["id"]))["date_started"]
    await report(client, job["id"], "running", "")
    await report(client, job["id"], "pulled", None)
    await report(client, job["id"], "finished", "done")
    finished = (await described(client, alice, job["id"]))["date_finished"]
    await report(client, job["id"], "error", "late failure")

    final = await described(client, alice, job["id"])
    assert final["status"] == "error"
    assert final["date_started"] == started
    assert final["date_finished"] == finished
    assert datetime.fromisoformat(started) <= datetime.fromisoformat(finished)
    assert final["runtime_details"] == "on worker w1\ndone\nlate failure"


async def test_the_worker_side_may_move_a_job_back_to_queued(
    client: Client, alice: dict[str, str], job: dict[str, Any]
) -> None:
    await report(client, job["id"], "running")
    assert await report(client, job["id"], "queued", "retry after time-out") == (200, "queued")
    assert (await described(client, alice, job["id"]))["status"] == "queued"


async def test_the_owner_is_emailed_once_when_the_job_ends(
    client: Client, job: dict[str, Any], notifier: RecordingNotifier
) -> None:
    await report(client, job["id"], "running")
    for _ in range(3):
        assert await report(client, job["id"], "finished") == (200, "finished")
    await eventually(lambda: len(notifier.notices) >= 1)
    await report(client, job["id"], "finished")

    assert [(n.job_id, n.status, n.recipient) for n in notifier.notices] == [
        (job["id"], "finished", "alice@example.org")
    ]


async def test_a_failing_notifier_does_not_fail_the_report(
    client: Client, job: dict[str, Any], notifier: RecordingNotifier
) -> None:
    notifier.failure = RuntimeError("mail service down")
    assert await report(client, job["id"], "error", "out of memory") == (200, "error")


async def test_reports_for_a_deleted_job_are_404(
    client: Client, alice: dict[str, str], job: dict[str, Any]
) -> None:
    await report(client, job["id"], "running")
    assert (await client.delete(f"/jobs/{job['id']}", headers=alice)).status == 204

    status, _ = await report(client, job["id"], "running")
    assert status == 404


async def test_the_internal_endpoint_is_documented(client: Client) -> None:
    spec = await (await client.get("/docs/swagger.json")).json()
    operation = spec["paths"]["/_job_status"]["put"]
    assert operation["tags"] == ["Internal"]
    assert operation["security"] == [{"internal": []}]
