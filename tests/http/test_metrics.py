"""`GET /metrics`: this instance's counters in the Prometheus text format."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ClientFactory, TokenFactory
from tests.fakes import RecordingWorkerQueue
from tests.http.files_helpers import uploaded
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from tests.waiting import polled
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import Settings, load_settings

Client = TestClient[web.Request, web.Application]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_and_status_with_their_latency(
    client: Client, user_headers: TokenFactory
) -> None:
    alice = await user_headers("alice@example.org")
    await uploaded(client, alice, "data/secret-experiment", "a.tif", b"19 bytes of content")
    assert (await client.get("/files/data/secret-experiment", headers=alice)).status == 200
    assert (await client.get("/no/such/thing/here")).status == 404

    samples = await scrape(client)

    requests = "userfacing_http_requests_total"
    assert value(samples, requests, method="GET", route="/files/{path}", status="200") == 1
    assert value(samples, requests, method="GET", route="unmatched", status="404") == 1
    latency = "userfacing_http_request_duration_seconds_count"
    assert value(samples, latency, method="GET", route="/files/{path}") == 1


async def test_no_user_id_email_or_path_appears_in_the_metrics(
    client: Client, user_headers: TokenFactory
) -> None:
    alice = await user_headers("alice@example.org")
    await uploaded(client, alice, "data/secret-experiment", "a.tif", b"content")
    await client.get("/files/data/secret-experiment/a.tif/download", headers=alice)
    await client.get("/no/such/secret-path")

    text = await (await client.get("/metrics")).text()

    for private in ("alice", "example.org", user_id_of(alice), "secret-experiment", "secret-path"):
        assert private not in text


async def test_bytes_uploaded_and_downloaded_are_counted(
    client: Client, user_headers: TokenFactory
) -> None:
    alice = await user_headers("alice@example.org")
    await uploaded(client, alice, "data/exp1", "a.tif", b"19 bytes of content")
    download = await client.get("/files/data/exp1/a.tif/download", headers=alice)
    assert await download.read() == b"19 bytes of content"

    samples = await scrape(client)

    assert value(samples, "userfacing_uploaded_bytes_total") == 19
    assert value(samples, "userfacing_downloaded_bytes_total") == 19


async def test_job_status_transitions_are_counted(
    aiohttp_client: ClientFactory, settings: Settings, user_headers: TokenFactory
) -> None:
    queue = RecordingWorkerQueue()
    client = await aiohttp_client(create_app(settings, worker_queue=queue))
    alice = await _user(client, settings)
    created = await client.post("/jobs", json=job_body(), headers=alice)
    job = await created.json()
    report = {"job_id": job["id"], "status": "running", "runtime_details": None}
    api_key = {"x-api-key": "internal-test-key"}
    assert (await client.put("/_job_status", json=report, headers=api_key)).status == 200
    assert (await client.put("/_job_status", json=report, headers=api_key)).status == 200

    samples = await scrape(client)

    transitions = "userfacing_job_status_transitions_total"
    assert value(samples, transitions, from_status="none", to_status="queued") == 1
    assert value(samples, transitions, from_status="queued", to_status="running") == 1
    attempts = "userfacing_job_delivery_attempts_total"
    assert value(samples, attempts, outcome="delivered") == 1


async def test_each_application_counts_only_its_own_requests(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    assert (await first.get("/health")).status == 200

    health = {"method": "GET", "route": "/health", "status": "200"}
    assert value(await scrape(first), "userfacing_http_requests_total", **health) == 1
    assert value(await scrape(second), "userfacing_http_requests_total", **health) == 0


@pytest.fixture
def catalogue(reference_catalogue: Path, tmp_path: Path) -> Path:
    """A copy of the reference catalogue that a test may change."""
    copy = tmp_path / "application_config.yaml"
    copy.write_text(reference_catalogue.read_text())
    return copy


async def test_catalogue_reloads_are_counted(
    aiohttp_client: ClientFactory, environ: dict[str, str], catalogue: Path
) -> None:
    settings = load_settings({**environ, "APPLICATION_CONFIG_FILE": str(catalogue)})
    client = await aiohttp_client(create_app(settings))
    alice = await _user(client, settings)
    changed = (await asyncio.to_thread(catalogue.read_text)) + "\n# changed\n"
    await asyncio.to_thread(catalogue.write_text, changed)

    async def reloads() -> float:
        assert (await client.get("/jobs/applications", headers=alice)).status == 200
        return value(await scrape(client), "userfacing_catalogue_reloads_total", result="success")

    assert await polled(reloads, lambda count: count >= 1) == 1


async def _user(client: Client, settings: Settings) -> dict[str, str]:
    form = {"username": "alice@example.org", "password": "Correct-horse-9"}
    assert (await client.post("/user", data=form)).status == 201
    issued = await client.post("/token", data=form)
    headers = {"Authorization": f"Bearer {(await issued.json())['id_token']}"}
    await UserFiles(settings).put_inputs(user_id_of(headers))
    return headers


async def test_the_outbox_depth_and_the_wait_of_its_oldest_job_are_read_when_scraped(
    client: Client, settings: Settings
) -> None:
    alice = await _user(client, settings)
    for name in ("run1", "run2"):
        assert (await client.post("/jobs", json=job_body(name), headers=alice)).status == 201

    samples = await scrape(client)

    assert value(samples, "userfacing_job_outbox_pending") == 2
    assert value(samples, "userfacing_job_outbox_oldest_pending_age_seconds") >= 0
    assert ("userfacing_job_outbox_oldest_pending_age_seconds", frozenset()) in samples
