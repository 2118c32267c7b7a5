"""Issue "Jobs end to end": request rate and latency of the job endpoints, per database."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.client import Api, UnexpectedAnswer
from bench.databases import database_url
from bench.load import run_load
from bench.options import Options
from bench.rates import Reference, against_floor, measured_rate
from bench.results import Result, request_rate
from bench.server import Server, running_floor, running_server
from bench.timing import measured
from bench.wrk import Requests, wrk_available

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
        bench = _JobsBench(api, server, options, engine, workdir)
        results = [await bench.seed()]
        if not wrk_available(f"request rates of the jobs suite ({engine})"):
            return results
        user_id = str((await api.json("GET", f"/jobs/{bench.ids[0]}", 200))["user_id"])
        async with running_floor(workdir, url, workdir / "user_data" / user_id, user_id) as floor:
            results += await bench.against(floor)
        if engine == "postgres":
            async with running_server(workdir, url, workers=2) as two_workers:
                results += await bench.workers(two_workers, results)
        return results


class _JobsBench:
    def __init__(
        self, api: Api, server: Server, options: Options, engine: str, workdir: Path
    ) -> None:
        self._api = api
        self._server = server
        self._options = options
        self._engine = engine
        self._workdir = workdir
        self.ids: list[int] = []

    async def seed(self) -> Result:
        """POST /jobs until the database holds `options.jobs` jobs (they wait in the outbox)."""
        count = self._options.jobs

        async def create(number: int) -> int:
            answer = await self._api.json("POST", "/jobs", 201, json=job_create(number))
            self.ids.append(int(answer["id"]))
            return 201

        with measured(self._server.pid) as step:
            outcome = await run_load(
                create,
                clients=SEED_CLIENTS,
                duration=float("inf"),
                max_requests=count,
                ok=frozenset({201}),
            )
        if len(self.ids) != count:
            raise UnexpectedAnswer(f"seeded {len(self.ids)} of {count} jobs: {outcome.first_error}")
        return Result(
            suite=SUITE,
            scenario=f"seed {count} jobs: POST /jobs, {SEED_CLIENTS} clients",
            engine=self._engine,
            **request_rate(outcome, step),
            p50_ms=outcome.percentile_ms(0.50),
            p99_ms=outcome.percentile_ms(0.99),
            note="seeded through HTTP (aiohttp client); no worker-facing API configured,"
            " jobs stay in the outbox",
        )

    def _put_status(self, server: Server) -> Requests:
        """The workers' keep-alive: `running`, again and again, for 1000 jobs spread over the
        table (moved to `running` beforehand)."""
        ids = self._shuffled_ids()[:RUNNING_JOBS]
        bodies = [
            json.dumps({"job_id": job_id, "status": "running", "runtime_details": None})
            for job_id in ids
        ]
        headers = {"x-api-key": server.internal_api_key, "Content-Type": "application/json"}
        return Requests("PUT", ["/_job_status"] * len(ids), headers, bodies)

    def _get_job(self) -> Requests:
        return Requests("GET", [f"/jobs/{job_id}" for job_id in self._shuffled_ids()], self._auth)

    def _list_jobs(self) -> Requests:
        return Requests("GET", [f"/jobs?offset=0&limit={PAGE}"], self._auth)

    @property
    def _auth(self) -> dict[str, str]:
        return self._api.auth

    async def _to_running(self) -> None:
        """Move the keep-alive scenario's jobs from `queued` to `running` (not measured), so
        that every measured report repeats the current status, as keep-alives do."""
        ids = self._shuffled_ids()[:RUNNING_JOBS]
        headers = {"x-api-key": self._server.internal_api_key}

        async def call(number: int) -> int:
            body = {"job_id": ids[number], "status": "running", "runtime_details": None}
            return await self._api.status_of("PUT", "/_job_status", json=body, headers=headers)

        outcome = await run_load(
            call,
            clients=SEED_CLIENTS,
            duration=float("inf"),
            max_requests=len(ids),
            ok=frozenset({200}),
        )
        if outcome.errors:
            raise UnexpectedAnswer(f"moving jobs to running failed: {outcome.first_error}")

    async def against(self, floor: Server) -> list[Result]:
        page = await self._api.json("GET", f"/jobs?offset=0&limit={PAGE}", 200)
        if len(page) != min(PAGE, len(self.ids)):
            raise UnexpectedAnswer(f"GET /jobs?limit={PAGE} returned {len(page)} jobs")
        await self._to_running()
        results = []
        for label, requests in (
            (
                f"PUT /_job_status keep-alive ({RUNNING_JOBS} running jobs)",
                self._put_status(self._server),
            ),
            ("GET /jobs/{id}", self._get_job()),
            (f"GET /jobs?limit={PAGE} ({len(self.ids)} jobs)", self._list_jobs()),
        ):
            results += await against_floor(
                label, self._engine, self._server, floor, requests, self._options, self._workdir
            )
        return results

    async def workers(self, two: Server, one_worker: list[Result]) -> list[Result]:
        """`WORKERS=2` against the `WORKERS=1` figures just measured, at the most clients."""
        clients = max(self._options.clients)
        results = []
        for label, requests in (
            (f"PUT /_job_status keep-alive ({RUNNING_JOBS} running jobs)", self._put_status(two)),
            ("GET /jobs/{id}", self._get_job()),
        ):
            reference = next(r for r in one_worker if r.scenario == f"{label}, {clients} clients")
            results.append(
                await measured_rate(
                    f"{label} WORKERS=2, {clients} clients",
                    self._engine,
                    two,
                    requests,
                    clients,
                    self._options,
                    self._workdir,
                    Reference("WORKERS=1", reference.value, reference.p99_ms),
                )
            )
        return results

    def _shuffled_ids(self) -> list[int]:
        ids = list(self.ids)
        random.Random(len(ids)).shuffle(ids)
        return ids
