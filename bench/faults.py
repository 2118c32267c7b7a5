"""`python -m bench.faults`: figures of the service under faults.

- deliveries per job when the worker-facing API accepts each job after 12 s;
- seconds to 503 on `GET /jobs` and `GET /ready` while PostgreSQL hangs (a proxy
  in front of it stops passing traffic) and once it answers again;
- seconds from SIGTERM to exit, idle and with an upload stalled mid-body.

Each runs `userfacing-api serve` as its own process, on loopback only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from tests.integration.fakes_http import FakeWorkerApi
from tests.integration.stalling_proxy import StallingProxy
from tests.waiting import polled

from bench.databases import temporary_postgres_database
from bench.server import EXECUTABLE, free_port, server_environment, sqlite_url

SLOW_ACCEPT_SECONDS = 12.0
JOBS = 3
START_SECONDS = 60.0
PASSWORD = "Correct-horse-9"
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def serving(
    database_url: str, **variables: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, dict[str, str]]]:
    """The service in `database_url` with `variables` added; a user's token headers."""
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        port = free_port()
        environ = server_environment(workdir, database_url, port, "bench-key") | variables
        process = await asyncio.create_subprocess_exec(
            str(EXECUTABLE), "serve", cwd=workdir, env=environ, stderr=asyncio.subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            headers = await _signed_in(base)
            yield process, base, headers
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _signed_in(base: str) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    form = {"username": "bench@example.org", "password": PASSWORD}
    async with aiohttp.ClientSession(base) as session:
        while True:
            try:
                await (await session.get("/health")).read()
                break
            except aiohttp.ClientConnectionError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.1)
        await session.post("/user", data=form)
        issued = await session.post("/token", data=form)
        return {"Authorization": f"Bearer {(await issued.json())['id_token']}"}


async def _timed_get(base: str, path: str, headers: dict[str, str]) -> tuple[int, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession(base) as session, session.get(path, headers=headers) as got:
        await got.read()
        return got.status, time.monotonic() - started


async def deliveries_per_job() -> None:
    worker = FakeWorkerApi(api_key="bench-key")
    await worker.start()
    worker.slow(SLOW_ACCEPT_SECONDS)
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with serving(sqlite_url(Path(folder)), WORKERFACING_API_URL=worker.url) as (
                _,
                base,
                headers,
            ):
                await _put_inputs(base, headers)
                async with aiohttp.ClientSession(base) as session:
                    for number in range(JOBS):
                        started = time.monotonic()
                        body = _job(f"run{number}")
                        async with session.post("/jobs", json=body, headers=headers) as created:
                            status = created.status
                        print(f"POST /jobs: {status} in {time.monotonic() - started:.2f} s")
                await worker.wait_for_jobs(JOBS, timeout=SLOW_ACCEPT_SECONDS * 3)
                # As long again: any resend of an unanswered attempt would arrive by then.
                await asyncio.sleep(SLOW_ACCEPT_SECONDS * 2)
        counts = Counter(received.body["job"]["meta"]["job_id"] for received in worker.received)
        print(f"worker API answering after {SLOW_ACCEPT_SECONDS:g} s: deliveries per job {counts}")
    finally:
        await worker.stop()


async def _put_inputs(base: str, headers: dict[str, str]) -> None:
    async with aiohttp.ClientSession(base) as session:
        for folder in ("config/exp1", "data/beads"):
            form = aiohttp.FormData()
            form.add_field("file", b"x", filename="input.bin")
            async with session.post(f"/files/{folder}/upload", data=form, headers=headers) as up:
                assert up.status == 201, await up.text()


def _job(name: str) -> dict[str, object]:
    return {
        "job_name": name,
        "environment": "cloud",
        "priority": 1,
        "application": {"application": "decode", "version": "v0_10_1", "entrypoint": "train"},
        "attributes": {
            "files_down": {"config_id": "exp1", "data_ids": ["beads"], "artifact_ids": []},
            "env_vars": {},
        },
        "hardware": None,
    }


async def hung_database(maintenance_dsn: str) -> None:
    async with temporary_postgres_database(maintenance_dsn) as url:
        proxy = StallingProxy("127.0.0.1", 5432)
        await proxy.start()
        try:
            async with serving(proxy.proxied(url)) as (_, base, headers):
                print(f"GET /jobs before: {await _timed_get(base, '/jobs', headers)}")
                proxy.stall()
                for path in ("/jobs", "/jobs", "/ready", "/health", "/files/"):
                    status, seconds = await _timed_get(base, path, headers)
                    print(f"PostgreSQL hung: GET {path} -> {status} in {seconds:.2f} s")
                proxy.resume()
                started = time.monotonic()
                await polled(lambda: _timed_get(base, "/jobs", headers), lambda got: got[0] == 200)
                print(f"PostgreSQL back: GET /jobs 200 after {time.monotonic() - started:.2f} s")
        finally:
            await proxy.stop()


async def exit_after_sigterm(grace: str | None, stalled_upload: bool) -> None:
    variables = {} if grace is None else {"SHUTDOWN_GRACE": grace}
    with tempfile.TemporaryDirectory() as folder:
        async with serving(sqlite_url(Path(folder)), **variables) as (process, base, headers):
            upload = await _stalled_upload(base, headers) if stalled_upload else None
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            reply = "" if upload is None else (await upload[0].readline()).decode().strip()
            replied = time.monotonic() - started
            await process.wait()
            exited = time.monotonic() - started
    seen = f"; stalled upload got {reply!r} after {replied:.2f} s" if stalled_upload else ""
    print(
        f"SHUTDOWN_GRACE={grace or 'default (25)'}: exit {process.returncode} "
        f"{exited:.2f} s after SIGTERM{seen}"
    )


async def _stalled_upload(
    base: str, headers: dict[str, str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An upload whose body stops after its first bytes (the writer keeps it open)."""
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /files/data/x/upload HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: {headers['Authorization']}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        ).encode()
        + b"x" * 1000
    )
    await writer.drain()
    await asyncio.sleep(0.5)
    return reader, writer


async def main() -> None:
    await deliveries_per_job()
    await hung_database(os.environ.get("BENCH_POSTGRES_DSN", POSTGRES_DSN))
    await exit_after_sigterm(None, stalled_upload=False)
    await exit_after_sigterm(None, stalled_upload=True)
    await exit_after_sigterm("2", stalled_upload=True)


if __name__ == "__main__":
    asyncio.run(main())
