"""Command-line options of the benchmark and the sizes they resolve to."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.units import GIB, MIB, parse_size

ENGINES = ("sqlite", "postgres")
SUITES = ("files", "jobs", "streams", "client")


@dataclass(frozen=True)
class Options:
    suites: tuple[str, ...]
    engines: tuple[str, ...]
    file_size: int
    folder_size: int
    folder_files: int
    session_size: int
    jobs: int
    streams: int
    duration: float
    clients: tuple[int, ...]
    postgres_dsn: str
    output: Path


@dataclass(frozen=True)
class _Profile:
    file_size: int
    folder_size: int
    folder_files: int
    session_size: int
    jobs: int
    duration: float


FULL = _Profile(
    file_size=GIB,
    folder_size=2 * GIB,
    folder_files=512,
    session_size=2 * GIB,
    jobs=10_000,
    duration=6.0,
)
QUICK = _Profile(
    file_size=64 * MIB,
    folder_size=128 * MIB,
    folder_files=32,
    session_size=128 * MIB,
    jobs=1000,
    duration=2.0,
)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _engines(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ENGINES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"accepted: a comma-separated subset of {ENGINES}")
    return names


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("accepted: positive numbers, comma-separated (10,50)")
    return counts


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput, latency and server memory of the user-facing API on loopback.",
        epilog=(
            "Missed targets show as FAIL in the report; the exit status is 1 only when"
            " a suite could not run at all."
        ),
    )
    parser.add_argument("--only", choices=SUITES, help="run one suite (default: all)")
    parser.add_argument(
        "--engines",
        type=_engines,
        default=ENGINES,
        help="databases for the jobs suite, comma-separated (default: sqlite,postgres)",
    )
    parser.add_argument("--file-size", type=_size, help="single file size (default 1GiB)")
    parser.add_argument("--folder-size", type=_size, help="folder total size (default 2GiB)")
    parser.add_argument("--folder-files", type=int, help="files in the folder (default 512)")
    parser.add_argument(
        "--session-size", type=_size, help="file sent through an upload session (default 2GiB)"
    )
    parser.add_argument("--jobs", type=int, help="jobs in the database (default 10000)")
    parser.add_argument(
        "--streams", type=int, default=1000, help="event streams held open at once (default 1000)"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per load scenario and side (default 6)"
    )
    parser.add_argument(
        "--clients",
        type=_counts,
        default=(10, 50),
        help="concurrent clients of the request-rate scenarios, comma-separated (default 10,50)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            "smoke run: 64MiB file, 128MiB folder of 32 files, 128MiB upload session,"
            " 1000 jobs, 2 s per scenario"
        ),
    )
    parser.add_argument(
        "--postgres-dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="maintenance database used to create and drop the run's database",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("var/bench/results.json"), help="JSON report"
    )
    arguments = parser.parse_args(argv)
    profile = QUICK if arguments.quick else FULL
    options = Options(
        suites=(arguments.only,) if arguments.only else SUITES,
        engines=arguments.engines,
        file_size=arguments.file_size or profile.file_size,
        folder_size=arguments.folder_size or profile.folder_size,
        folder_files=arguments.folder_files or profile.folder_files,
        session_size=arguments.session_size or profile.session_size,
        jobs=arguments.jobs or profile.jobs,
        streams=arguments.streams,
        duration=arguments.duration or profile.duration,
        clients=arguments.clients,
        postgres_dsn=arguments.postgres_dsn,
        output=arguments.output,
    )
    if options.folder_files < 1 or options.folder_size < options.folder_files:
        parser.error("--folder-files must be between 1 and --folder-size bytes")
    if min(options.jobs, options.streams) < 1 or options.duration <= 0:
        parser.error("--jobs, --streams and --duration must be positive")
    return options
