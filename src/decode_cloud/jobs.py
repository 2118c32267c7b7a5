"""Applications and jobs: submit, list, read, follow, cancel, delete, fetch the results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from decode_cloud.defaults import POLL_SECONDS
from decode_cloud.downloads import Downloaded, Downloader
from decode_cloud.errors import ApiError, Unreachable
from decode_cloud.models import Job, JobEvent, JobSpec
from decode_cloud.sse import read_events
from decode_cloud.transport import Connection, url_path

PAGE_SIZE = 100
STREAM_READ_TIMEOUT = 60.0
"""The stream sends a comment every 15 s; this much silence means the connection is gone."""
RECONNECTS = 5
EVENT_STREAM = "text/event-stream"


def _job_path(job_id: int, *rest: str) -> str:
    return url_path("jobs", str(job_id), *rest)


async def applications(connection: Connection) -> dict[str, Any]:
    catalogue: dict[str, Any] = await connection.json("GET", "/jobs/applications")
    return catalogue


async def submit(connection: Connection, spec: JobSpec) -> Job:
    return Job.from_json(await connection.json("POST", "/jobs", json=spec.body()))


async def list_jobs(connection: Connection, statuses: Sequence[str] = ()) -> list[Job]:
    """Every job of the caller, newest first, optionally only those in `statuses`.

    The filter is also applied here: a service without the `status` filter ignores it.
    """
    jobs: list[Job] = []
    params: dict[str, str] = {"limit": str(PAGE_SIZE)}
    if statuses:
        params["status"] = ",".join(statuses)
    while True:
        params["offset"] = str(len(jobs))
        page = await connection.json("GET", "/jobs", params=params)
        jobs.extend(Job.from_json(item) for item in page)
        if len(page) < PAGE_SIZE:
            break
    return [job for job in jobs if not statuses or job.status in statuses]


async def get_job(connection: Connection, job_id: int) -> Job:
    return Job.from_json(await connection.json("GET", _job_path(job_id)))


async def cancel(connection: Connection, job_id: int) -> Job:
    return Job.from_json(await connection.json("POST", _job_path(job_id, "cancel")))


async def delete(connection: Connection, job_id: int) -> None:
    await connection.json("DELETE", _job_path(job_id))


async def events(
    connection: Connection, job_id: int, poll_seconds: float = POLL_SECONDS
) -> AsyncGenerator[JobEvent, None]:
    """The job's status changes from its creation on, live, until a terminal status.

    From the event stream where the service has one; otherwise (404 on the stream of an
    existing job, or an answer that is not a stream) by polling every `poll_seconds`.
    """
    streamed = False
    async for event in _streamed(connection, job_id):
        streamed = True
        yield event
    if not streamed:
        async for event in _polled(connection, job_id, poll_seconds):
            yield event


async def _streamed(connection: Connection, job_id: int) -> AsyncIterator[JobEvent]:
    """Events of the stream, reconnecting with `Last-Event-ID`; nothing without a stream."""
    last_id: str | None = None
    failures = 0
    while True:
        headers = {"Accept": EVENT_STREAM}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        try:
            async with connection.request(
                "GET",
                _job_path(job_id, "events"),
                headers=headers,
                allow=frozenset({404}),
                read_timeout=STREAM_READ_TIMEOUT,
            ) as response:
                if response.status == 404 or response.content_type != EVENT_STREAM:
                    await get_job(connection, job_id)  # a missing job is the 404 to report
                    return
                async for message in read_events(response):
                    if message.event != "status":
                        continue
                    event = JobEvent.from_json(json.loads(message.data))
                    last_id = message.id or str(event.seq)
                    failures = 0
                    yield event
                    if event.is_terminal:
                        return
            closed: Unreachable = Unreachable("the event stream closed before the job ended")
        except Unreachable as err:
            closed = err
        failures += 1
        if failures > RECONNECTS:
            raise closed
        await asyncio.sleep(min(2**failures, 30))


async def _polled(
    connection: Connection, job_id: int, poll_seconds: float
) -> AsyncIterator[JobEvent]:
    """Every status change, by polling: the job's recorded history where the service
    keeps one, so that statuses that came and went between two polls are shown too;
    else the job itself, which shows only the status of the moment (the last one always).
    """
    shown = 0
    while (history := await _history(connection, job_id)) is not None:
        for event in history:
            if event.seq > shown:
                shown = event.seq
                yield event
                if event.is_terminal:
                    return
        await asyncio.sleep(poll_seconds)
    async for event in _polled_job(connection, job_id, poll_seconds):
        yield event


async def _history(connection: Connection, job_id: int) -> list[JobEvent] | None:
    """The job's events so far (`GET /jobs/{id}/events` as JSON); None without them.

    An empty history counts as none: a job from before the service kept histories.
    """
    async with connection.request(
        "GET",
        _job_path(job_id, "events"),
        headers={"Accept": "application/json"},
        allow=frozenset({404, 406}),
    ) as response:
        if response.status >= 400 or response.content_type != "application/json":
            return None
        answer = await response.json()
    if not isinstance(answer, list) or not answer:
        return None
    return sorted((JobEvent.from_json(item) for item in answer), key=lambda event: event.seq)


async def _polled_job(
    connection: Connection, job_id: int, poll_seconds: float
) -> AsyncIterator[JobEvent]:
    """A change of status or of the runtime details, each time one is seen.

    The job's `runtime_details` accumulate (each report appends a line); an event
    carries only what was added since the previous one, like the stream's events.
    """
    seen: tuple[str, str] | None = None
    seq = 0
    while True:
        job = await get_job(connection, job_id)
        details = job.runtime_details or ""
        if seen != (job.status, details):
            before = seen[1] if seen else ""
            added = details.removeprefix(before) if details.startswith(before) else details
            seen = (job.status, details)
            seq += 1
            now = datetime.now(UTC).isoformat(timespec="seconds")
            yield JobEvent(seq, now, job.status, added.strip("\n") or None)
        if job.is_terminal:
            return
        await asyncio.sleep(poll_seconds)


async def fetch(
    connection: Connection, downloader: Downloader, job_id: int, local_dir: Path
) -> list[Downloaded]:
    """The job's output, log and artifact folders into `local_dir/output`, `/log`, `/artifact`.

    A folder the job never wrote is left out; files already fetched are not fetched again.
    """
    job = await get_job(connection, job_id)
    fetched: list[Downloaded] = []
    for kind, folder in sorted(job.paths_out.items()):
        try:
            fetched.extend(await downloader.download_folder(folder, local_dir / kind))
        except ApiError as err:
            if err.status != 404:
                raise
    return fetched
