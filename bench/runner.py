"""One benchmark run: every selected suite on its own server, then the report."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.client import UnexpectedAnswer, open_session
from bench.client_suite import run_client_suite
from bench.files_suite import run_files_suite
from bench.jobs_suite import run_jobs_suite
from bench.options import Options
from bench.results import Result, render_table, write_json
from bench.server import ServerFailed, server_log
from bench.streams_suite import run_streams_suite
from bench.wrk import WrkFailed

Suite = Callable[[Path], Awaitable[list[Result]]]
SUITE_FAILURES = (
    UnexpectedAnswer,
    ServerFailed,
    WrkFailed,
    aiohttp.ClientError,
    asyncpg.PostgresError,
    OSError,
    TimeoutError,
)
METHOD = [
    "server: `userfacing-api serve` in its own process on 127.0.0.1, AUTH=1, local storage"
    " in a temporary folder, LOG_LEVEL=WARNING; transfers and the job seeding are driven by"
    " one aiohttp session in this process; request-rate scenarios by wrk (one thread, closed"
    " loop: each connection sends its next request when the last answered); server and load"
    " generators share the machine's CPUs",
    "floor: `python -m bench.floor`, a bare aiohttp app on the same database and folder (no"
    " middleware, no token, no validation, no schema; the same SQL through the same driver,"
    " rows as dicts encoded with orjson); each rate scenario runs on the floor, then on the"
    " service, with the very same requests; `vs floor` is service / floor",
    "WORKERS=2 rows: the same requests on a second server with WORKERS=2 on the same"
    " PostgreSQL database; `vs floor` there is WORKERS=2 / WORKERS=1",
    "MB/s counts 10^6 bytes per second of wall-clock time of the whole transfer",
    "RSS +MiB: peak RSS of the server (its processes summed, sampled every 20 ms) during the"
    " scenario minus its RSS at the scenario's start",
    "p50/p99: latency percentiles (wrk's for rate scenarios, nearest-rank otherwise)",
    "CPU srv/cli/oth: CPU time per wall-clock second (100% = one core) of the server, of the"
    " benchmark's own process, and of every other process on the machine (wrk among them)",
]


def _suites(options: Options, session: aiohttp.ClientSession) -> list[tuple[str, Suite]]:
    suites: list[tuple[str, Suite]] = []
    if "files" in options.suites:
        suites.append(("files", lambda workdir: run_files_suite(options, session, workdir)))
    if "client" in options.suites:
        suites.append(("client", lambda workdir: run_client_suite(options, session, workdir)))
    if "jobs" in options.suites:
        for engine in options.engines:

            def jobs(workdir: Path, engine: str = engine) -> Awaitable[list[Result]]:
                return run_jobs_suite(options, session, workdir, engine)

            suites.append((f"jobs-{engine}", jobs))
    if "streams" in options.suites:
        for engine in options.engines:

            def streams(workdir: Path, engine: str = engine) -> Awaitable[list[Result]]:
                return run_streams_suite(options, workdir, engine)

            suites.append((f"streams-{engine}", streams))
    return suites


async def run(options: Options, argv: list[str]) -> int:
    """Run the suites, print and save the report; 1 when a suite could not run."""
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    speed_before = reference_loop_ms()
    results: list[Result] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="userfacing-bench-", ignore_cleanup_errors=True) as tmp:
        async with open_session(max(options.clients)) as session:
            for label, suite in _suites(options, session):
                workdir = Path(tmp) / label
                workdir.mkdir()
                _progress(f"running {label} ...")
                try:
                    produced = await suite(workdir)
                except SUITE_FAILURES as exc:
                    failures.append(f"{label}: {type(exc).__name__}: {exc}")
                    _progress(f"{label} could not run: {type(exc).__name__}: {exc}")
                else:
                    results.extend(produced)
                    _progress(render_table(produced))
                finally:
                    _show_server_log(label, workdir)
                    shutil.rmtree(workdir, ignore_errors=True)
    speeds = (speed_before, reference_loop_ms())
    print(
        f"{os.cpu_count()} CPUs; load average (1 min) before: {load_before[0]:.2f},"
        f" after: {os.getloadavg()[0]:.2f}; reference loop before: {speeds[0]:.0f} ms,"
        f" after: {speeds[1]:.0f} ms\n"
    )
    print(render_table(results))
    if failures:
        print("\nsuites that could not run:\n" + "\n".join(f"- {line}" for line in failures))
    context = _context(options, argv, started, failures, (load_before, speeds))
    write_json(options.output, results, context)
    print(f"\nJSON report: {options.output}")
    return 1 if failures else 0


def reference_loop_ms() -> float:
    """Best of three timings of a fixed pure-Python loop: how fast one core is right now.

    Shared and virtual machines change speed from minute to minute; comparing this
    figure between runs tells a slower machine from a slower service.
    """
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sum(number * number for number in range(1_000_000))
        timings.append(time.perf_counter() - started)
    return min(timings) * 1000


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _show_server_log(label: str, workdir: Path) -> None:
    log = server_log(workdir).strip()
    if log:
        _progress(f"server log of {label} (warnings and errors):\n{log}")


def _context(
    options: Options,
    argv: list[str],
    started: datetime,
    failures: list[str],
    machine: tuple[tuple[float, float, float], tuple[float, float]],
) -> dict[str, Any]:
    load_before, speeds = machine
    settings = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in asdict(options).items()
    }
    return {
        "command": " ".join(["python -m bench", *argv]),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "reference_loop_ms_before_after": speeds,
        },
        "options": settings,
        "method": METHOD,
        "failures": failures,
    }
