"""Issue "Jobs a scientist can follow": many open event streams on one process, how fast a
status change reaches them, and (PostgreSQL) how fast it reaches another instance's streams."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from bench.client import Api, UnexpectedAnswer
from bench.databases import database_url
from bench.jobs_suite import CONFIG_ID, DATA_ID, job_create
from bench.load import LoadOutcome
from bench.options import Options
from bench.results import Result, usage
from bench.server import Server, running_server
from bench.timing import Measure, measured
from bench.units import MIB

SUITE = "streams"
JOBS = 100
RSS_LIMIT_MIB = 200.0
EVENT_STREAM = {"Accept": "text/event-stream"}
READY_SECONDS = 120.0


@dataclass
class _Stream:
    """One open stream and when each job's events reached it."""

    job_id: int | None
    """None: the stream of all the user's jobs."""
    arrivals: dict[int, list[float]] = field(default_factory=dict)
    received: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def run_streams_suite(options: Options, workdir: Path, engine: str) -> list[Result]:
    async with (
        database_url(engine, workdir, options.postgres_dsn) as url,
        running_server(workdir, url) as server,
        _stream_session() as session,
    ):
        api = await Api(session, server.base_url).signed_in()
        await api.upload(f"config/{CONFIG_ID}", "param.yaml", _one_chunk(b"camera: bench\n"))
        await api.upload(f"data/{DATA_ID}", "calib.mat", _one_chunk(b"\0" * 4096))
        ids = [
            int((await api.json("POST", "/jobs", 201, json=job_create(n)))["id"])
            for n in range(JOBS)
        ]
        bench = _StreamsBench(api, server, options, engine, ids)
        results = await bench.open_and_fan_out(options.streams)
        if engine == "postgres":
            second = workdir / "second"
            second.mkdir()
            async with running_server(second, url) as other:
                results.append(await bench.across_instances(other))
        return results


@asynccontextmanager
async def _stream_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session with no connection limit: every stream holds one connection."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


class _StreamsBench:
    def __init__(
        self, api: Api, server: Server, options: Options, engine: str, ids: list[int]
    ) -> None:
        self._api = api
        self._server = server
        self._options = options
        self._engine = engine
        self._ids = ids
        self._key = {"x-api-key": server.internal_api_key}

    async def open_and_fan_out(self, count: int) -> list[Result]:
        """Open `count` streams (half of all jobs, half of one job each), then change
        every job's status once and time how long each event takes to reach each stream."""
        streams = [
            _Stream(None if number % 2 else self._ids[number // 2 % len(self._ids)])
            for number in range(count)
        ]
        async with AsyncExitStack() as stack:
            with measured(self._server.pid) as opening:
                started = time.perf_counter()
                for stream in streams:
                    await stack.enter_async_context(self._reading(self._api, stream))
                await self._until(streams, lambda stream: self._expected(stream, 1))
                seconds = time.perf_counter() - started
            rss = psutil.Process(self._server.pid).memory_info().rss
            with measured(self._server.pid) as fanning:
                sent = await self._change_every_job("running")
                await self._until(streams, lambda stream: self._expected(stream, 2))
            latencies = [
                arrival - sent[job_id]
                for stream in streams
                for job_id, arrivals in stream.arrivals.items()
                for arrival in arrivals[1:]
            ]
        opened = Result(
            suite=SUITE,
            scenario=f"{count} open streams (half /jobs/events, half /jobs/{{id}}/events)",
            engine=self._engine,
            value=rss / MIB,
            unit="MiB RSS",
            seconds=seconds,
            **usage(opening),
            requests=count,
            max_value=RSS_LIMIT_MIB,
            note=f"server RSS with every stream open and its past events sent ({seconds:.1f} s)",
        )
        fanned = self._latency_result(
            f"{JOBS} status changes fanned out to {count} streams",
            latencies,
            fanning.seconds,
            fanning,
            note="latency: from the PUT /_job_status answer to the event's arrival on a stream",
        )
        return [opened, fanned]

    async def across_instances(self, other: Server) -> Result:
        """Streams on `other`, status reports to the first instance: LISTEN/NOTIFY's delay."""
        api = Api(self._api.session, other.base_url, self._api.token)
        streams = [_Stream(job_id) for job_id in self._ids]
        async with AsyncExitStack() as stack:
            with measured(other.pid) as step:
                for stream in streams:
                    await stack.enter_async_context(self._reading(api, stream))
                await self._until(streams, lambda stream: self._expected(stream, 2))
                sent = await self._change_every_job("postprocessing")
                await self._until(streams, lambda stream: self._expected(stream, 3))
        latencies = [
            arrivals[2] - sent[job_id] for s in streams for job_id, arrivals in s.arrivals.items()
        ]
        return self._latency_result(
            f"{JOBS} status changes reaching another instance's streams",
            latencies,
            step.seconds,
            step,
            note="reported to one instance, streamed by the other (LISTEN/NOTIFY)",
        )

    def _latency_result(
        self, scenario: str, latencies: list[float], seconds: float, step: Measure, note: str
    ) -> Result:
        outcome = LoadOutcome(seconds=seconds, latencies=latencies)
        return Result(
            suite=SUITE,
            scenario=scenario,
            engine=self._engine,
            value=len(latencies) / seconds if seconds else 0.0,
            unit="events/s",
            seconds=seconds,
            **usage(step),
            requests=len(latencies),
            p50_ms=outcome.percentile_ms(0.50),
            p99_ms=outcome.percentile_ms(0.99),
            note=note,
        )

    def _expected(self, stream: _Stream, per_job: int) -> bool:
        jobs = self._ids if stream.job_id is None else [stream.job_id]
        return all(len(stream.arrivals.get(job_id, ())) >= per_job for job_id in jobs)

    async def _change_every_job(self, status: str) -> dict[int, float]:
        sent: dict[int, float] = {}
        for job_id in self._ids:
            body = {"job_id": job_id, "status": status, "runtime_details": None}
            answer = await self._api.status_of("PUT", "/_job_status", json=body, headers=self._key)
            if answer != 200:
                raise UnexpectedAnswer(f"PUT /_job_status: HTTP {answer}")
            sent[job_id] = time.perf_counter()
        return sent

    async def _until(self, streams: list[_Stream], done: Callable[[_Stream], bool]) -> None:
        """Wait until `done` holds for every stream (the bench fails past READY_SECONDS)."""
        deadline = time.perf_counter() + READY_SECONDS
        for stream in streams:
            while not done(stream):
                stream.changed.clear()
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise UnexpectedAnswer("streams did not receive every event in time")
                try:
                    await asyncio.wait_for(stream.changed.wait(), remaining)
                except TimeoutError:
                    raise UnexpectedAnswer("streams did not receive every event in time") from None

    @asynccontextmanager
    async def _reading(self, api: Api, stream: _Stream) -> AsyncIterator[None]:
        path = "/jobs/events" if stream.job_id is None else f"/jobs/{stream.job_id}/events"
        response = await api.session.get(api.url(path), headers={**api.auth, **EVENT_STREAM})
        if response.status != 200:
            raise UnexpectedAnswer(f"GET {path}: HTTP {response.status}")
        task = asyncio.create_task(self._read(response, stream))
        try:
            yield
        finally:
            task.cancel()
            response.close()

    @staticmethod
    async def _read(response: aiohttp.ClientResponse, stream: _Stream) -> None:
        async for raw in response.content:
            if raw.startswith(b"data:"):
                event = json.loads(raw[5:])
                job_id = event.get("job_id", stream.job_id)
                stream.arrivals.setdefault(job_id, []).append(time.perf_counter())
                stream.received += 1
                stream.changed.set()
