"""The service as its own process (`python -m userfacing_api serve`) for the client's tests.

Each service gets an environment built here (nothing inherited but `PATH`), a port of
its own on 127.0.0.1 and a working folder inside the test's temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.free_port import free_port

START_SECONDS = 60.0
STOP_SECONDS = 20.0
INTERNAL_KEY = "client-tests-internal-key"
PASSWORD = "Correct-horse-9"


@dataclass(frozen=True)
class Service:
    url: str
    folder: Path

    async def call(
        self,
        method: str,
        path: str,
        expect: int,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Any:
        """One request to the service; fails the test unless it answers `expect`."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, headers=headers, **options) as response,
        ):
            body = await response.text()
            assert response.status == expect, f"{method} {path}: {response.status} {body}"
            return await response.json(content_type=None) if body else None

    async def register(self, username: str) -> None:
        await self.call("POST", "/user", 201, data={"username": username, "password": PASSWORD})

    async def report_status(self, job_id: int, status: str, details: str | None = None) -> None:
        """What the worker-facing API sends when a job changes status."""
        await self.call(
            "PUT",
            "/_job_status",
            200,
            headers={"x-api-key": INTERNAL_KEY},
            json={"job_id": job_id, "status": status, "runtime_details": details},
        )

    def log(self) -> str:
        return (self.folder / "server.log").read_text(errors="replace")


@asynccontextmanager
async def running_service(
    folder: Path, catalogue: Path, environ: Mapping[str, str]
) -> AsyncIterator[Service]:
    """Serve with SQLite in `folder`, `AUTH=1`, and `environ` on top; SIGTERM at the end."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "AUTH": "1",
        "DATABASE_URL": f"sqlite:///{folder / 'service.db'}",
        "USER_DATA_ROOT_PATH": str(folder / "user_data"),
        "APPLICATION_CONFIG_FILE": str(catalogue),
        "INTERNAL_API_KEY_SECRET": INTERNAL_KEY,
        "LOG_LEVEL": "WARNING",
        **environ,
    }
    with (folder / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "userfacing_api",
            "serve",
            env=env,
            cwd=folder,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    service = Service(f"http://127.0.0.1:{port}", folder)
    try:
        await _wait_healthy(process, service)
        yield service
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_healthy(process: asyncio.subprocess.Process, service: Service) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise AssertionError(
                    f"the service exited with {process.returncode}:\n{service.log()}"
                )
            with suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{service.url}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the service did not start within {START_SECONDS} s:\n{service.log()}")
