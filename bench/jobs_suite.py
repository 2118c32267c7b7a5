"""Issue "Jobs end to end": request rate and latency of the job endpoints, per database."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.client import Api, UnexpectedAnswer
from bench.databases import database_url
from bench.load import Call, LoadOutcome, run_load
from bench.options import Options
from bench.results import Result
from bench.server import running_server
from bench.timing import Measure, measured

SUITE = "jobs"
SEED_CLIENTS = 16
CONFIG_ID = "bench-config"
DATA_ID = "bench-data"
APPLICATION = {"application": "decode", "version": "v0_10_1", "entrypoint": "train"}
PAGE = 100
RUNNING_JOBS = 1000


def job_create(number: int) -> dict[str, Any]:
    return {
        "job_name": f"bench-{number:06d}",
        "environment": None,
        "priority": None,
        "application": APPLICATION,
        "attributes": {
            "files_down": {"config_id": CONFIG_ID, "data_ids": [DATA_ID], "artifact_ids": []},
            "env_vars": {},
        },
        "hardware": None,
    }


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def run_jobs_suite(
    options: Options, session: aiohttp.ClientSession, workdir: Path, engine: str
) -> list[Result]:
    async with (
        database_url(engine, workdir, options.postgres_dsn) as url,
        running_server(workdir, url) as server,
    ):
        api = await Api(session, server.base_url).signed_in()
        await api.upload(f"config/{CONFIG_ID}", "param.yaml", _one_chunk(b"camera: bench\n"))
        await api.upload(f"data/{DATA_ID}", "calib.mat", _one_chunk(b"\0" * 4096))
        bench = _JobsBench(api, server.pid, server.internal_api_key, options, engine)
        return [
            await bench.seed(),
            await bench.put_job_status(),
            await bench.get_job(),
            await bench.list_jobs(),
        ]


class _JobsBench:
    def __init__(
        self, api: Api, server_pid: int, api_key: str, options: Options, engine: str
    ) -> None:
        self._api = api
        self._pid = server_pid
        self._api_key = api_key
        self._options = options
        self._engine = engine
        self._ids: list[int] = []

    def _result(self, scenario: str, outcome: LoadOutcome, step: Measure, note: str = "") -> Result:
        return Result(
            suite=SUITE,
            scenario=scenario,
            engine=self._engine,
            value=outcome.per_second,
            unit="req/s",
            seconds=outcome.seconds,
            rss_growth_bytes=step.rss_growth,
            server_cpu=step.server_cpu,
            client_cpu=step.client_cpu,
            other_cpu=step.other_cpu,
            requests=outcome.requests,
            errors=outcome.errors,
            p50_ms=outcome.percentile_ms(0.50),
            p99_ms=outcome.percentile_ms(0.99),
            note="; ".join(part for part in (note, outcome.first_error) if part),
        )

    async def seed(self) -> Result:
        """POST /jobs until the database holds `options.jobs` jobs (they wait in the outbox)."""
        count = self._options.jobs

        async def create(number: int) -> int:
            answer = await self._api.json("POST", "/jobs", 201, json=job_create(number))
            self._ids.append(int(answer["id"]))
            return 201

        with measured(self._pid) as step:
            outcome = await run_load(
                create,
                clients=SEED_CLIENTS,
                duration=float("inf"),
                max_requests=count,
                ok=frozenset({201}),
            )
        if len(self._ids) != count:
            raise UnexpectedAnswer(
                f"seeded {len(self._ids)} of {count} jobs: {outcome.first_error}"
            )
        return self._result(
            f"seed {count} jobs: POST /jobs, {SEED_CLIENTS} clients",
            outcome,
            step,
            note="seeded through HTTP; no worker-facing API configured, jobs stay in the outbox",
        )

    async def _load(self, scenario: str, call: Call) -> Result:
        with measured(self._pid) as step:
            outcome = await run_load(
                call,
                clients=self._options.clients,
                duration=self._options.duration,
                max_requests=self._options.max_requests,
                ok=frozenset({200}),
            )
        return self._result(f"{scenario}, {self._options.clients} clients", outcome, step)

    def _shuffled_ids(self) -> list[int]:
        ids = list(self._ids)
        random.Random(len(ids)).shuffle(ids)
        return ids

    async def put_job_status(self) -> Result:
        """The workers' keep-alive: `running`, again and again, for 1000 jobs spread over the table.

        Each job is first moved from `queued` to `running` (not measured), so every
        measured report repeats the current status, as keep-alives do.
        """
        ids = self._shuffled_ids()[:RUNNING_JOBS]
        headers = {"x-api-key": self._api_key}

        async def call(number: int) -> int:
            body = {"job_id": ids[number % len(ids)], "status": "running", "runtime_details": None}
            return await self._api.status_of("PUT", "/_job_status", json=body, headers=headers)

        warm_up = await run_load(
            call,
            clients=SEED_CLIENTS,
            duration=float("inf"),
            max_requests=len(ids),
            ok=frozenset({200}),
        )
        if warm_up.errors:
            raise UnexpectedAnswer(f"moving jobs to running failed: {warm_up.first_error}")
        return await self._load(f"PUT /_job_status keep-alive ({len(ids)} running jobs)", call)

    async def get_job(self) -> Result:
        ids = self._shuffled_ids()

        async def call(number: int) -> int:
            return await self._api.status_of("GET", f"/jobs/{ids[number % len(ids)]}")

        return await self._load("GET /jobs/{id}", call)

    async def list_jobs(self) -> Result:
        page = await self._api.json("GET", f"/jobs?offset=0&limit={PAGE}", 200)
        if len(page) != min(PAGE, len(self._ids)):
            raise UnexpectedAnswer(f"GET /jobs?limit={PAGE} returned {len(page)} jobs")

        async def call(_: int) -> int:
            return await self._api.status_of("GET", f"/jobs?offset=0&limit={PAGE}")

        return await self._load(f"GET /jobs?limit={PAGE}", call)
