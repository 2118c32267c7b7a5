"""Issue "A running service": file transfer throughput and memory, and listing rate."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bench.client import Api, UnexpectedAnswer, pattern_chunks, random_block
from bench.options import Options
from bench.rates import against_floor
from bench.results import RSS_TARGET_MIB, TRANSFER_TARGET_MBPS, Result, usage
from bench.server import Server, running_floor, running_server, sqlite_url
from bench.timing import Measure, measured
from bench.units import MB, format_size
from bench.wrk import Requests, wrk_available

SUITE = "files"
ENGINE = "-"
PARALLELISM = 4
FILE_FOLDER = "data/bench-file"
FILE_NAME = "big.bin"
FOLDER = "data/bench-folder"

Transfer = Callable[[], Awaitable[int]]


async def run_files_suite(
    options: Options, session: aiohttp.ClientSession, workdir: Path
) -> list[Result]:
    async with running_server(workdir, sqlite_url(workdir)) as server:
        api = await Api(session, server.base_url).signed_in()
        bench = _FilesBench(api, server, options)
        return [
            await bench.upload_file(),
            await bench.upload_in_session(),
            await bench.download_file(),
            await bench.upload_folder(),
            await bench.download_folder_files(),
            await bench.download_folder_zip(),
            *await bench.list_root(workdir),
        ]


async def _bounded(transfers: list[Transfer], parallelism: int) -> int:
    """Run the transfers `parallelism` at a time; return the bytes they moved."""
    pending = iter(transfers)
    total = 0

    async def worker() -> None:
        nonlocal total
        for transfer in pending:
            # Not `total += await ...`: that reads `total` before the await and loses updates.
            moved = await transfer()
            total += moved

    await asyncio.gather(*(worker() for _ in range(parallelism)))
    return total


def deflate_rate(block: bytes, rounds: int = 16) -> float:
    """MB/s of raw zlib deflate (level 6) on `block`: the ceiling of a deflating zip."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    started = time.perf_counter()
    for _ in range(rounds):
        compressor.compress(block)
    compressor.flush()
    return rounds * len(block) / MB / (time.perf_counter() - started)


class _FilesBench:
    def __init__(self, api: Api, server: Server, options: Options) -> None:
        self._api = api
        self._server = server
        self._pid = server.pid
        self._options = options
        self._block = random_block()
        self._file_label = format_size(options.file_size)
        count = options.folder_files
        self._each = options.folder_size // count
        self._total = self._each * count
        self._names = [f"part-{index:05d}.bin" for index in range(count)]
        self._folder_label = (
            f"{format_size(self._total)} folder ({count} x {format_size(self._each)})"
        )

    def _transfer(
        self,
        scenario: str,
        moved: int,
        step: Measure,
        requests: int,
        note: str = "",
        extra: dict[str, float | int] | None = None,
    ) -> Result:
        return Result(
            suite=SUITE,
            scenario=scenario,
            engine=ENGINE,
            value=moved / MB / step.seconds,
            unit="MB/s",
            seconds=step.seconds,
            **usage(step),
            requests=requests,
            min_value=TRANSFER_TARGET_MBPS,
            max_rss_growth_mib=RSS_TARGET_MIB,
            note=note,
            extra={"bytes": moved, **(extra or {})},
        )

    async def upload_file(self) -> Result:
        chunks = pattern_chunks(self._options.file_size, self._block)
        with measured(self._pid) as step:
            await self._api.upload(FILE_FOLDER, FILE_NAME, chunks)
        return self._transfer(
            f"upload {self._file_label} file",
            self._options.file_size,
            step,
            1,
        )

    async def upload_in_session(self) -> Result:
        size = self._options.session_size
        with measured(self._pid) as step:
            parts, stored = await self._api.upload_in_session(
                f"{FILE_FOLDER}/session.bin", size, self._block, PARALLELISM
            )
        if stored != size:
            raise UnexpectedAnswer(f"the session stored {stored} bytes of {size}")
        return self._transfer(
            f"upload {format_size(size)} file through an upload session,"
            f" {PARALLELISM} parts in parallel",
            size,
            step,
            2 * parts + 2,
            note="create, part requests, parts (local storage: through the service), complete",
            extra={"parts": parts},
        )

    async def download_file(self) -> Result:
        with measured(self._pid) as step:
            received = await self._api.download(f"{FILE_FOLDER}/{FILE_NAME}")
        if received != self._options.file_size:
            raise UnexpectedAnswer(f"downloaded {received} bytes of {self._options.file_size}")
        return self._transfer(f"download {self._file_label} file", received, step, 1)

    async def upload_folder(self) -> Result:
        def upload(name: str) -> Transfer:
            async def send() -> int:
                await self._api.upload(FOLDER, name, pattern_chunks(self._each, self._block))
                return self._each

            return send

        with measured(self._pid) as step:
            await _bounded([upload(name) for name in self._names], PARALLELISM)
        return self._transfer(
            f"upload {self._folder_label}, {PARALLELISM} parallel",
            self._total,
            step,
            len(self._names),
        )

    async def download_folder_files(self) -> Result:
        def download(name: str) -> Transfer:
            return lambda: self._api.download(f"{FOLDER}/{name}")

        with measured(self._pid) as step:
            received = await _bounded([download(name) for name in self._names], PARALLELISM)
        if received != self._total:
            raise UnexpectedAnswer(f"downloaded {received} bytes of the folder's {self._total}")
        return self._transfer(
            f"download {self._folder_label} file by file, {PARALLELISM} parallel",
            received,
            step,
            len(self._names),
        )

    async def download_folder_zip(self) -> Result:
        with measured(self._pid) as step:
            zipped = await self._api.download(FOLDER)
        out_rate = zipped / MB / step.seconds
        return self._transfer(
            f"download {self._folder_label} as zip (MB/s of input)",
            self._total,
            step,
            1,
            note=(
                f"zip of {zipped / MB:,.1f} MB out ({out_rate:,.1f} MB/s out); binary members"
                " are stored (deflate level 0); deflating this random data at level 6 would"
                f" cap the zip at {deflate_rate(self._block):,.1f} MB/s (one core)"
            ),
            extra={"zip_bytes": zipped, "zip_mb_per_s": out_rate},
        )

    async def list_root(self, workdir: Path) -> list[Result]:
        """`GET /files/` against a floor that lists the same folder."""
        if not wrk_available("GET /files/ against the floor"):
            return []
        users = [entry for entry in (workdir / "user_data").iterdir() if entry.name[0] != "."]
        if len(users) != 1:
            raise UnexpectedAnswer(f"expected one user folder, found {len(users)}")
        url = sqlite_url(workdir)
        requests = Requests("GET", ["/files/"], self._api.auth)
        async with running_floor(workdir, url, users[0], users[0].name) as floor:
            return await against_floor(
                "GET /files/", ENGINE, self._server, floor, requests, self._options, workdir
            )
