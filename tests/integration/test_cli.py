"""`python -m userfacing_api` in a process of its own, as an operator runs it.

Each run gets an environment built here (nothing inherited but `PATH`) and a
temporary working directory, so no `.env` of the developer's is picked up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, closing
from pathlib import Path

import aiohttp
import pytest

from tests.free_port import free_port
from tests.processes import Finished, run_to_end
from userfacing_api.adapters.db.migrations import load_migrations

COMMAND_SECONDS = 60.0
START_SECONDS = 30.0


def _environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath), **environ}


async def _start(
    *arguments: str, environ: Mapping[str, str], cwd: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "userfacing_api",
        *arguments,
        env=_environment(environ),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_cli(*arguments: str, environ: Mapping[str, str], cwd: Path) -> Finished:
    process = await _start(*arguments, environ=environ, cwd=cwd)
    return await run_to_end(process, within=COMMAND_SECONDS)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory: no `.env` unless a test writes one."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


@pytest.fixture
def service_environ(tmp_path: Path, reference_catalogue: Path) -> dict[str, str]:
    """A complete embedded deployment kept inside `tmp_path`."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "USER_DATA_ROOT_PATH": str(tmp_path / "user_data"),
        "APPLICATION_CONFIG_FILE": str(reference_catalogue),
        "LOG_LEVEL": "INFO",
        "PORT": str(free_port()),
    }


def assert_one_error_line_naming(finished: Finished, variable: str) -> str:
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr
    assert len(finished.stderr_lines) == 1, finished.stderr
    line = finished.stderr_lines[0]
    assert line.startswith(f"configuration error: {variable}: ")
    return line


async def test_check_config_accepts_the_embedded_defaults(workdir: Path) -> None:
    finished = await run_cli("check-config", environ={}, cwd=workdir)

    assert finished.returncode == 0, finished.stderr
    assert "configuration is valid" in finished.stdout
    assert finished.stderr == ""


async def test_check_config_prints_the_effective_settings_with_secrets_masked(
    workdir: Path,
) -> None:
    (workdir / ".env").write_text("USER_DATA_ROOT_PATH=var/user_data\n")
    environ = {
        "FILESYSTEM": "s3",
        "S3_BUCKET": "decode-data",
        "DATABASE_URL": "postgresql://app:db-pass-123@db.internal:5432/decode",
        "INTERNAL_API_KEY_SECRET": "internal-key-456",
        "EMAIL_SENDER_SERVICE": "mailjet",
        "EMAIL_SENDER_ADDRESS": "noreply@example.org",
        "EMAIL_SENDER_API_KEY": "mailjet-key-789",
        "EMAIL_SENDER_SECRET_KEY": "mailjet-secret-000",
    }

    finished = await run_cli("check-config", environ=environ, cwd=workdir)

    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    assert "FILESYSTEM=s3" in lines
    assert "USER_DATA_ROOT_PATH=var/user_data" in lines
    assert "DATABASE_URL=postgresql://app:****@db.internal:5432/decode" in lines
    assert "INTERNAL_API_KEY_SECRET=****" in lines
    assert "EMAIL_SENDER_API_KEY=****" in lines
    assert "PORT=8000" in lines
    assert "# users' files go to: s3://decode-data/var/user_data/<user id>/" in finished.stdout
    for secret in ("db-pass-123", "internal-key-456", "mailjet-key-789", "mailjet-secret-000"):
        assert secret not in finished.stdout
    assert lines[-1] == "configuration is valid"


async def test_a_bad_variable_stops_with_one_line_naming_it(workdir: Path) -> None:
    finished = await run_cli("check-config", environ={"FILESYSTEM": "nfs"}, cwd=workdir)

    line = assert_one_error_line_naming(finished, "FILESYSTEM")
    assert "'nfs'" in line
    assert "configuration is valid" not in finished.stdout


async def test_a_dotenv_file_in_the_working_directory_is_read(workdir: Path) -> None:
    (workdir / ".env").write_text("# deployment defaults\nFILESYSTEM=nfs\n")

    finished = await run_cli("check-config", environ={}, cwd=workdir)

    assert_one_error_line_naming(finished, "FILESYSTEM")


async def test_the_process_environment_wins_over_the_dotenv_file(workdir: Path) -> None:
    (workdir / ".env").write_text("FILESYSTEM=nfs\n")

    finished = await run_cli("check-config", environ={"FILESYSTEM": "local"}, cwd=workdir)

    assert finished.returncode == 0, finished.stderr
    assert "configuration is valid" in finished.stdout


async def test_migrate_creates_the_schema_of_a_new_sqlite_database(
    workdir: Path, tmp_path: Path
) -> None:
    database = tmp_path / "migrated" / "service.db"

    finished = await run_cli(
        "migrate", environ={"DATABASE_URL": f"sqlite:///{database}"}, cwd=workdir
    )

    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    with closing(sqlite3.connect(database)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    assert {"schema_migrations", "users", "signing_keys", "jobs", "job_deliveries"} <= tables
    assert sorted(versions) == [migration.version for migration in load_migrations("sqlite")]


async def test_serve_on_a_port_in_use_stops_with_one_line_naming_host_and_port(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        finished = await run_cli(
            "serve", environ={**service_environ, "PORT": str(port)}, cwd=workdir
        )

    line = assert_one_error_line_naming(finished, "PORT")
    assert f"127.0.0.1:{port}" in line
    assert "already in use" in line


async def test_serve_with_an_invalid_catalogue_stops_naming_application_config_file(
    workdir: Path, tmp_path: Path, service_environ: dict[str, str]
) -> None:
    catalogue = tmp_path / "application_config.yaml"
    catalogue.write_text("just a sentence, not a catalogue\n")

    finished = await run_cli(
        "serve",
        environ={**service_environ, "APPLICATION_CONFIG_FILE": str(catalogue)},
        cwd=workdir,
    )

    assert_one_error_line_naming(finished, "APPLICATION_CONFIG_FILE")


async def test_serve_with_an_unreachable_postgresql_stops_naming_database_url_not_the_password(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    environ = {
        **service_environ,
        "DATABASE_URL": f"postgresql://postgres:{{}}@127.0.0.1:{free_port()}/userfacing",
        "DATABASE_SECRET": "pg-secret@value",
    }

    finished = await run_cli("serve", environ=environ, cwd=workdir)

    assert_one_error_line_naming(finished, "DATABASE_URL")
    # Neither the password nor its percent-encoded form (`pg-secret%40value`).
    assert "pg-secret" not in finished.stderr + finished.stdout


@asynccontextmanager
async def serving(
    environ: Mapping[str, str], cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`serve` in its own process; killed at the end if the test has not stopped it."""
    process = await _start("serve", environ=environ, cwd=cwd)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def wait_until_healthy(
    session: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> aiohttp.ClientResponse:
    """The first successful answer of `url`, polled until the start-up deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    while True:
        if process.returncode is not None:
            raise AssertionError(f"serve exited early with {process.returncode}")
        try:
            response = await session.get(url, headers={"X-Request-ID": "cli-health-probe"})
        except aiohttp.ClientConnectionError:
            if loop.time() > deadline:
                raise AssertionError(f"nothing answered {url} within {START_SECONDS} s") from None
            await asyncio.sleep(0.05)
            continue
        await response.read()
        return response


async def test_serve_answers_health_and_stops_cleanly_on_sigterm(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    port = free_port()
    environ = {**service_environ, "HOST": "127.0.0.1", "PORT": str(port)}

    async with serving(environ, workdir) as process, aiohttp.ClientSession() as session:
        response = await wait_until_healthy(session, f"http://127.0.0.1:{port}/health", process)
        health = await response.json()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), COMMAND_SECONDS)

    assert response.status == 200
    assert health == {"status": "ok"}
    assert response.headers["X-Request-ID"] == "cli-health-probe"
    assert process.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
    errors = stderr.decode()
    assert "Traceback" not in errors
    assert "rid=cli-health-probe" in errors
    assert stdout.decode().strip() == ""


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL database (a plain fixture resolving the asynchronous one)."""
    url: str = request.getfixturevalue("postgres_url")
    return url


def _serving_processes(parent: int) -> list[int]:
    """The parent's child processes that serve (not multiprocessing's resource tracker)."""
    import psutil

    return [
        child.pid
        for child in psutil.Process(parent).children()
        if "resource_tracker" not in " ".join(child.cmdline())
    ]


@pytest.mark.postgres
async def test_workers_serve_one_port_from_as_many_processes_and_all_stop_on_sigterm(
    workdir: Path, service_environ: dict[str, str], postgres_database: str
) -> None:
    port = free_port()
    environ = {
        **service_environ,
        "DATABASE_URL": postgres_database,
        "PORT": str(port),
        "WORKERS": "2",
    }

    async with serving(environ, workdir) as process, aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/health"
        response = await wait_until_healthy(session, url, process)
        workers = _serving_processes(process.pid)
        answers = []
        for _ in range(20):
            async with aiohttp.ClientSession() as fresh, fresh.get(url) as answer:
                answers.append(answer.status)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), COMMAND_SECONDS)

    assert response.status == 200
    assert answers == [200] * 20
    assert len(workers) == 2
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_several_workers_on_sqlite_are_refused_with_one_line_naming_workers(
    workdir: Path, service_environ: dict[str, str]
) -> None:
    finished = await run_cli("serve", environ={**service_environ, "WORKERS": "2"}, cwd=workdir)

    line = assert_one_error_line_naming(finished, "WORKERS")
    assert "PostgreSQL" in line
