"""The service under test, run as its own process with an environment built here."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPOSITORY = Path(__file__).resolve().parent.parent
EXECUTABLE = Path(sys.executable).parent / "userfacing-api"
APPLICATION_CONFIG = REPOSITORY / "config" / "application_config.yaml"
START_DEADLINE = 60.0
STOP_DEADLINE = 20.0
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


class ServerFailed(RuntimeError):
    """The service did not start or stop as expected; the message ends with its log."""


@dataclass(frozen=True)
class Server:
    pid: int
    base_url: str
    internal_api_key: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(workdir: Path, database_url: str, port: int, api_key: str) -> dict[str, str]:
    """Only what the service needs: nothing of the caller's settings leaks in."""
    environ = {name: os.environ[name] for name in INHERITED if name in os.environ}
    user_data = workdir / "user_data"
    user_data.mkdir(parents=True, exist_ok=True)
    environ.update(
        HOST="127.0.0.1",
        PORT=str(port),
        AUTH="1",
        AUTH_PROVIDER="local",
        FILESYSTEM="local",
        DATABASE_URL=database_url,
        USER_DATA_ROOT_PATH=str(user_data),
        INTERNAL_API_KEY_SECRET=api_key,
        APPLICATION_CONFIG_FILE=str(APPLICATION_CONFIG),
        LOG_LEVEL="WARNING",
    )
    return environ


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'userfacing.db'}"


@asynccontextmanager
async def running_server(
    workdir: Path, database_url: str, *, workers: int = 1
) -> AsyncIterator[Server]:
    """Start `userfacing-api serve` in `workdir`, wait for /health, SIGTERM it on exit.

    The working directory is the temporary one, so no `.env` of the repository is read.
    """
    port = free_port()
    api_key = secrets.token_hex(16)
    environ = server_environment(workdir, database_url, port, api_key)
    environ["WORKERS"] = str(workers)
    command = (str(EXECUTABLE), "serve")
    async with _running(command, workdir, environ, port, workdir / "server.log") as pid:
        yield Server(pid=pid, base_url=f"http://127.0.0.1:{port}", internal_api_key=api_key)


@asynccontextmanager
async def running_floor(
    workdir: Path, database_url: str, user_folder: Path, user_id: str
) -> AsyncIterator[Server]:
    """Start the floor app (`bench.floor`) on the service's database and user folder."""
    port = free_port()
    environ = {name: os.environ[name] for name in INHERITED if name in os.environ}
    environ.update(
        FLOOR_DATABASE_URL=database_url,
        FLOOR_USER_FOLDER=str(user_folder),
        FLOOR_USER_ID=user_id,
        FLOOR_PORT=str(port),
        PYTHONPATH=str(REPOSITORY),
    )
    command = (sys.executable, "-m", "bench.floor")
    async with _running(command, workdir, environ, port, workdir / "floor.log") as pid:
        yield Server(pid=pid, base_url=f"http://127.0.0.1:{port}", internal_api_key="")


@asynccontextmanager
async def _running(
    command: tuple[str, ...], workdir: Path, environ: dict[str, str], port: int, log_path: Path
) -> AsyncIterator[int]:
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=workdir,
            env=environ,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _wait_healthy(process, f"http://127.0.0.1:{port}", log_path)
        yield process.pid
    finally:
        await _stop(process, log_path)


async def _wait_healthy(process: asyncio.subprocess.Process, base_url: str, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_DEADLINE
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise ServerFailed(f"service exited with {process.returncode}\n{_tail(log)}")
            with suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{base_url}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise ServerFailed(f"no healthy answer within {START_DEADLINE:.0f} s\n{_tail(log)}")


async def _stop(process: asyncio.subprocess.Process, log: Path) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_DEADLINE)
    except TimeoutError as exc:
        process.kill()
        await process.wait()
        raise ServerFailed(
            f"service ignored SIGTERM for {STOP_DEADLINE:.0f} s\n{_tail(log)}"
        ) from exc


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


def server_log(workdir: Path) -> str:
    return _tail(workdir / "server.log")
