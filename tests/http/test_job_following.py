"""Following and controlling jobs over HTTP: cancel, history, live streams, filters,
ETags and the active-jobs limit, on each database engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
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
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from tests.http.sse import EVENT_STREAM, ended, next_event, next_message
from tests.waiting import eventually, polled
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.http.app_keys import SERVICES
from userfacing_api.bootstrap import create_app
from userfacing_api.ports.worker_queue import DeliveryUnavailable
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]
KEY = {"x-api-key": "internal-test-key"}
HEARTBEAT = 0.05
EVENT_FIELDS = {"seq", "time", "status", "runtime_details"}


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings, queue: RecordingWorkerQueue
) -> Client:
    # The test server, like `serve`, cancels the handler of a client that goes away.
    return await aiohttp_client(
        create_app(settings, worker_queue=queue, event_stream_heartbeat=HEARTBEAT)
    )


async def start(client: Client, headers: dict[str, str], name: str = "run1") -> int:
    response = await client.post("/jobs", json=job_body(name), headers=headers)
    assert response.status == 201, await response.text()
    job_id: int = (await response.json())["id"]
    return job_id


async def report(
    client: Client, job_id: int, status: str, details: str | None = None, expect: int = 200
) -> None:
    body = {"job_id": job_id, "status": status, "runtime_details": details}
    response = await client.put("/_job_status", json=body, headers=KEY)
    assert response.status == expect, await response.text()


async def events_of(client: Client, headers: dict[str, str], job_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/jobs/{job_id}/events", headers=headers)
    assert response.status == 200, await response.text()
    events: list[dict[str, Any]] = await response.json()
    return events


async def pending_deliveries(url: str) -> int:
    async with open_database(url) as database:
        rows = await database.session.fetch("SELECT count(*) AS pending FROM job_deliveries")
    pending: int = rows[0]["pending"]
    return pending


# --- cancel -------------------------------------------------------------------------


async def test_cancelling_keeps_the_job_and_its_folders_and_stops_the_workers(
    client: Client, alice: dict[str, str], files: UserFiles
) -> None:
    job_id = await start(client, alice)
    await report(client, job_id, "running")
    await files.put(user_id_of(alice), "output/run1/model.pt")

    response = await client.post(f"/jobs/{job_id}/cancel", headers=alice)

    assert response.status == 200, await response.text()
    job = await response.json()
    assert (job["id"], job["status"]) == (job_id, "cancelled")
    assert job["date_finished"] is not None
    assert files.exists(user_id_of(alice), "output/run1/model.pt")
    assert (await (await client.get(f"/jobs/{job_id}", headers=alice)).json()) == job
    await report(client, job_id, "running", expect=404)
    await report(client, job_id, "finished", "done", expect=404)
    assert (await events_of(client, alice, job_id))[-1]["status"] == "cancelled"


async def test_a_job_waiting_for_delivery_is_withdrawn_when_cancelled(
    client: Client, alice: dict[str, str], queue: RecordingWorkerQueue, settings: Settings
) -> None:
    queue.answers.append(DeliveryUnavailable("worker API unreachable: refused"))
    job_id = await start(client, alice)
    assert await pending_deliveries(settings.database.url) == 1

    response = await client.post(f"/jobs/{job_id}/cancel", headers=alice)

    assert response.status == 200
    assert await pending_deliveries(settings.database.url) == 0
    assert queue.sent == []


@pytest.mark.parametrize("ended_as", ["finished", "error"])
async def test_an_ended_job_cannot_be_cancelled(
    client: Client, alice: dict[str, str], ended_as: str
) -> None:
    job_id = await start(client, alice)
    await report(client, job_id, ended_as)

    response = await client.post(f"/jobs/{job_id}/cancel", headers=alice)

    assert response.status == 409
    assert ended_as in (await response.json())["detail"]


async def test_cancelling_twice_is_a_conflict_and_others_jobs_are_not_found(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    job_id = await start(client, alice)

    by_bob = await client.post(f"/jobs/{job_id}/cancel", headers=bob)
    first = await client.post(f"/jobs/{job_id}/cancel", headers=alice)
    second = await client.post(f"/jobs/{job_id}/cancel", headers=alice)
    unknown = await client.post("/jobs/999999/cancel", headers=alice)

    assert (by_bob.status, first.status, second.status, unknown.status) == (404, 200, 409, 404)


# --- history --------------------------------------------------------------------------


async def test_the_history_has_one_event_per_change_and_none_per_keep_alive(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    for status, details in [
        ("pulled", None),
        ("running", None),
        ("running", None),
        ("running", "epoch 1"),
        ("running", None),
        ("finished", "done"),
    ]:
        await report(client, job_id, status, details)

    events = await events_of(client, alice, job_id)

    assert [(event["status"], event["runtime_details"]) for event in events] == [
        ("queued", None),
        ("pulled", None),
        ("running", None),
        ("running", "epoch 1"),
        ("finished", "done"),
    ]
    assert all(set(event) == EVENT_FIELDS for event in events)
    numbers = [event["seq"] for event in events]
    assert numbers == sorted(set(numbers))


async def test_delivery_trouble_shows_in_the_history(
    client: Client, alice: dict[str, str], queue: RecordingWorkerQueue
) -> None:
    queue.answers.append(DeliveryUnavailable("worker API unreachable: refused"))
    job_id = await start(client, alice)

    events = await polled(lambda: events_of(client, alice, job_id), lambda found: len(found) > 1)

    assert [event["status"] for event in events] == ["queued", "queued"]
    assert "worker API unreachable" in events[1]["runtime_details"]
    assert "retrying" in events[1]["runtime_details"]


async def test_a_deleted_job_has_no_history(client: Client, alice: dict[str, str]) -> None:
    job_id = await start(client, alice)
    await report(client, job_id, "running")

    deleted = await client.delete(f"/jobs/{job_id}", headers=alice)
    await start(client, alice)  # the same name again: its history starts afresh

    assert deleted.status == 204
    assert (await client.get(f"/jobs/{job_id}/events", headers=alice)).status == 404
    again = (await (await client.get("/jobs", headers=alice)).json())[0]["id"]
    assert [event["status"] for event in await events_of(client, alice, again)] == ["queued"]


async def test_another_users_history_is_not_found(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    job_id = await start(client, alice)

    listed = await client.get(f"/jobs/{job_id}/events", headers=bob)
    streamed = await client.get(f"/jobs/{job_id}/events", headers={**bob, **EVENT_STREAM})

    assert (listed.status, streamed.status) == (404, 404)


# --- live streams ---------------------------------------------------------------------


async def test_a_job_stream_sends_the_past_then_live_events_and_ends_with_the_job(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    await report(client, job_id, "running")

    async with client.get(f"/jobs/{job_id}/events", headers={**alice, **EVENT_STREAM}) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        past = [await next_event(stream), await next_event(stream)]
        await report(client, job_id, "running", "epoch 2")
        live = await next_event(stream)
        await report(client, job_id, "finished", "done")
        last = await next_event(stream)

        assert await ended(stream)

    assert [message.data["status"] for message in past] == ["queued", "running"]
    assert (live.data["status"], live.data["runtime_details"]) == ("running", "epoch 2")
    assert last.data["status"] == "finished"
    for message in [*past, live, last]:
        assert message.fields["event"] == "status"
        assert message.fields["id"] == str(message.data["seq"])
        assert set(message.data) == EVENT_FIELDS
    assert [event["seq"] for event in await events_of(client, alice, job_id)] == [
        message.data["seq"] for message in [*past, live, last]
    ]


async def test_a_stream_resumes_after_the_last_event_id_without_gaps_or_repeats(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    for status in ("pulled", "running"):
        await report(client, job_id, status)
    history = await events_of(client, alice, job_id)
    resumed_after = str(history[0]["seq"])

    async with client.get(
        f"/jobs/{job_id}/events",
        headers={**alice, **EVENT_STREAM, "Last-Event-ID": resumed_after},
    ) as stream:
        first = await next_event(stream)
        second = await next_event(stream)

    assert [first.data, second.data] == history[1:]


async def test_a_quiet_stream_sends_heartbeat_comments(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)

    async with client.get(f"/jobs/{job_id}/events", headers={**alice, **EVENT_STREAM}) as stream:
        await next_event(stream)
        heartbeat = await next_message(stream)

    assert heartbeat.comment == "ping"


async def test_a_stream_of_an_ended_job_sends_its_history_and_closes(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    await client.post(f"/jobs/{job_id}/cancel", headers=alice)

    async with client.get(f"/jobs/{job_id}/events", headers={**alice, **EVENT_STREAM}) as stream:
        statuses = [(await next_event(stream)).data["status"] for _ in range(2)]
        assert await ended(stream)

    assert statuses == ["queued", "cancelled"]


@pytest.mark.parametrize("path", ["/jobs/{job_id}/events", "/jobs/events"])
async def test_a_client_that_disconnects_leaves_no_task_or_subscription_behind(
    client: Client, alice: dict[str, str], path: str
) -> None:
    job_id = await start(client, alice)
    service = client.app[SERVICES].job_events
    tasks_before = len(asyncio.all_tasks())

    stream = await client.get(path.format(job_id=job_id), headers={**alice, **EVENT_STREAM})
    await next_event(stream)
    assert service.open_streams == 1
    stream.close()

    await eventually(lambda: service.open_streams == 0)
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)


async def test_the_stream_of_all_jobs_carries_the_callers_jobs_and_no_one_elses(
    client: Client, alice: dict[str, str], bob: dict[str, str]
) -> None:
    first = await start(client, alice, "a")

    async with client.get("/jobs/events", headers={**alice, **EVENT_STREAM}) as stream:
        past = await next_event(stream)
        bobs = await start(client, bob, "b")
        await report(client, bobs, "running")
        second = await start(client, alice, "c")
        await report(client, first, "running")
        live = [await next_event(stream), await next_event(stream)]

    assert (past.data["job_id"], past.data["status"]) == (first, "queued")
    assert [(message.data["job_id"], message.data["status"]) for message in live] == [
        (second, "queued"),
        (first, "running"),
    ]
    assert all(set(message.data) == {*EVENT_FIELDS, "job_id"} for message in [past, *live])


async def test_the_stream_of_all_jobs_resumes_after_the_last_event_id(
    client: Client, alice: dict[str, str]
) -> None:
    first = await start(client, alice, "a")
    second = await start(client, alice, "b")
    seen = (await events_of(client, alice, first))[0]["seq"]

    async with client.get(
        "/jobs/events", headers={**alice, **EVENT_STREAM, "Last-Event-ID": str(seen)}
    ) as stream:
        resumed = await next_event(stream)

    assert (resumed.data["job_id"], resumed.data["status"]) == (second, "queued")


async def test_a_malformed_last_event_id_is_refused(client: Client, alice: dict[str, str]) -> None:
    response = await client.get(
        "/jobs/events", headers={**alice, **EVENT_STREAM, "Last-Event-ID": "yesterday"}
    )

    assert response.status == 422


async def test_streams_need_a_token(client: Client) -> None:
    for path in ("/jobs/events", "/jobs/1/events"):
        response = await client.get(path, headers=EVENT_STREAM)
        assert response.status == 401, path


# --- filters and ETags ----------------------------------------------------------------


async def test_listings_filter_by_status_application_and_name(
    client: Client, alice: dict[str, str]
) -> None:
    train = await start(client, alice, "beads/train")
    await start(client, alice, "beads/fit")
    cells = await start(client, alice, "cells")
    await report(client, train, "running")
    await report(client, cells, "finished")

    async def names(query: str) -> list[str]:
        response = await client.get(f"/jobs?{query}", headers=alice)
        assert response.status == 200, await response.text()
        return [job["job_name"] for job in await response.json()]

    assert await names("status=running") == ["beads/train"]
    assert await names("status=running,queued") == ["beads/fit", "beads/train"]
    assert await names("status=running,queued&offset=1&limit=1") == ["beads/train"]
    assert await names("name=beads/") == ["beads/fit", "beads/train"]
    assert await names("application=decode&status=finished") == ["cells"]
    assert await names("application=comet") == []


async def test_an_unknown_status_filter_is_a_422_naming_the_query_field(
    client: Client, alice: dict[str, str]
) -> None:
    response = await client.get("/jobs?status=running,sleeping", headers=alice)

    assert response.status == 422
    assert "sleeping" in await response.text()
    assert "status" in await response.text()


async def test_job_answers_carry_an_etag_that_answers_304_while_unchanged(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    for path in (f"/jobs/{job_id}", "/jobs"):
        first = await client.get(path, headers=alice)
        etag = first.headers["ETag"]

        again = await client.get(path, headers={**alice, "If-None-Match": etag})

        assert (again.status, again.headers["ETag"], await again.read()) == (304, etag, b"")
    await report(client, job_id, "running")
    for path in (f"/jobs/{job_id}", "/jobs"):
        changed = await client.get(path, headers={**alice, "If-None-Match": etag})
        assert changed.status == 200, path
        assert changed.headers["ETag"] != etag


async def test_job_answers_match_any_tag_and_ignore_dates(
    client: Client, alice: dict[str, str]
) -> None:
    job_id = await start(client, alice)
    for path in (f"/jobs/{job_id}", "/jobs"):
        anything = await client.get(path, headers={**alice, "If-None-Match": "*"})
        dated = await client.get(
            path, headers={**alice, "If-Modified-Since": "Tue, 01 Dec 2099 00:00:00 GMT"}
        )

        assert anything.status == 304, path
        assert (dated.status, dated.headers["ETag"]) == (200, anything.headers["ETag"]), path


async def test_the_new_endpoints_are_documented_with_their_schemas(client: Client) -> None:
    spec = await (await client.get("/docs/swagger.json")).json()

    paths = spec["paths"]
    assert "schema" in paths["/jobs/{job_id}/cancel"]["post"]["responses"]["200"]
    assert "409" in paths["/jobs/{job_id}/cancel"]["post"]["responses"]
    assert "schema" in paths["/jobs/{job_id}/events"]["get"]["responses"]["200"]
    assert "text/event-stream" in paths["/jobs/events"]["get"]["responses"]["200"]["description"]
    listing = {parameter["name"] for parameter in paths["/jobs"]["get"]["parameters"]}
    assert {"status", "application", "name", "offset", "limit"} <= listing
    assert "429" in paths["/jobs"]["post"]["responses"]
    resuming = {parameter["name"] for parameter in paths["/jobs/events"]["get"]["parameters"]}
    assert "Last-Event-ID" in resuming
