"""The `decode-cloud` client against curl: the same file through the same server.

Both tools run as their own processes on one large file on disk, one after the other
in an order that rotates over `ROUNDS` rounds (dirty pages flushed before each; each
tool's median round counts):
curl's single multipart POST and plain GET; `decode-cloud upload --single-request`
(the same one request) and `decode-cloud download`. These must move the file at least
at `CLIENT_SHARE` of curl's rate once the client has started, in memory that does not
grow with the file (its peak RSS is sampled like the server's). The start-up
(interpreter, imports, one request: the fastest of a few `decode-cloud whoami`) is a
fixed cost per command, not a rate: it is measured on its own, shown beside every
figure and left out of the target; a notebook using the Python API pays it once, not
per transfer. `decode-cloud upload` as scientists run it, through an upload session
(parts in parallel, resumable), is reported against curl's single request too,
without a target: it adds a request per part for the part's URL and a flush to the
disk per part, which curl's one request does not pay.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.client import PASSWORD, USERNAME, Api, UnexpectedAnswer, random_block
from bench.memory import RssSampler
from bench.options import Options
from bench.results import RSS_TARGET_MIB, Result, usage
from bench.server import running_server, sqlite_url
from bench.timing import Measure, measured
from bench.units import MB, MIB, format_size
from decode_cloud.uploads import PARALLEL_PARTS
from userfacing_api.domain.uploads import plan_parts

SUITE = "client"
ENGINE = "-"
CLIENT_SHARE = 0.8
ROUNDS = 5
"""Each tool moves the file this often and its median round counts. The fastest round
would let one lucky round decide: on a virtual machine the first transfer after a
pause often runs much faster than the ones right after it. The order rotates, so that
no tool always goes first."""
CLIENT_RSS_TARGET_MIB = 128.0
"""The client process's whole peak RSS (interpreter, aiohttp and rich included)."""
CURL_FOLDER = "data/bench-curl"
CLIENT_FOLDER = "data/bench-client"
SESSION_FOLDER = "data/bench-session"
FILE_NAME = "big.bin"
SESSION = "session"
"""`decode-cloud upload` through an upload session, beside the single-request tools."""


def _write_file(path: Path, size: int) -> None:
    block = random_block()
    with path.open("wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])


class _Tools:
    def __init__(self, api: Api, workdir: Path) -> None:
        self._api = api
        self._home = workdir / "home"
        self._curl = shutil.which("curl")
        if self._curl is None:
            raise UnexpectedAnswer("curl is not installed: the client suite compares against it")

    def client_environ(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self._home),
            "XDG_CONFIG_HOME": str(self._home / "config"),
            "XDG_STATE_HOME": str(self._home / "state"),
        }

    async def run(self, *command: str, stdin: bytes = b"") -> int:
        """Run a tool to the end; its peak RSS in bytes."""
        process = await asyncio.create_subprocess_exec(
            *command,
            env=self.client_environ(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        with RssSampler(process.pid) as sampler:
            _, errors = await process.communicate(stdin)
        if process.returncode != 0:
            raise UnexpectedAnswer(f"{command[0]} {command[1]}: {errors.decode()[-300:]}")
        return sampler.peak

    async def start_up_seconds(self, rounds: int = 3) -> float:
        """The fastest of a few `decode-cloud whoami` (start, load, one small request):
        the fixed cost in every client figure."""
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            await self.client("whoami")
            timings.append(time.perf_counter() - started)
        return min(timings)

    async def login(self) -> None:
        await self.client(
            "login",
            "--url",
            self._api.base_url,
            "--username",
            USERNAME,
            "--password-stdin",
            stdin=PASSWORD.encode() + b"\n",
        )

    async def client(self, *arguments: str, stdin: bytes = b"") -> int:
        return await self.run(sys.executable, "-m", "decode_cloud", *arguments, stdin=stdin)

    async def curl(self, *arguments: str) -> int:
        assert self._curl is not None
        return await self.run(
            self._curl,
            "-sS",
            "--fail",
            "-H",
            f"Authorization: Bearer {self._api.token}",
            *arguments,
        )


@dataclass
class _Rounds:
    """A tool's rounds: the median one counts, with the highest peak RSS of any."""

    measures: list[Measure] = field(default_factory=list)
    peak_rss: int = 0

    def keep(self, measure: Measure, peak_rss: int) -> None:
        self.measures.append(measure)
        self.peak_rss = max(self.peak_rss, peak_rss)

    @property
    def median(self) -> Measure:
        ordered = sorted(self.measures, key=lambda measure: measure.seconds)
        return ordered[len(ordered) // 2]


def _check_and_remove(copy: Path, size: int) -> None:
    """A downloaded copy must be whole; removed at once, so the next transfer starts alike."""
    got = copy.stat().st_size
    copy.unlink()
    if got != size:
        raise UnexpectedAnswer(f"{copy.name} has {got} bytes of {size}")


async def _settled() -> None:
    """Flush dirty pages first, so that no transfer pays for the writes of the one before."""
    await asyncio.to_thread(os.sync)


async def run_client_suite(
    options: Options, session: aiohttp.ClientSession, workdir: Path
) -> list[Result]:
    async with running_server(workdir, sqlite_url(workdir)) as server:
        api = await Api(session, server.base_url).signed_in()
        tools = _Tools(api, workdir)
        await tools.login()
        start_up = await tools.start_up_seconds()
        source = workdir / FILE_NAME
        await asyncio.to_thread(_write_file, source, options.file_size)
        url = server.base_url
        copies = {"curl": workdir / "curl.bin", "client": workdir / "client.bin"}
        uploads = {
            "curl": lambda: tools.curl(
                "-o", os.devnull, "-F", f"file=@{source}", f"{url}/files/{CURL_FOLDER}/upload"
            ),
            "client": lambda: tools.client(
                "upload", str(source), CLIENT_FOLDER, "-q", "--single-request"
            ),
            SESSION: lambda: tools.client("upload", str(source), SESSION_FOLDER, "-q"),
        }
        downloads = {
            "curl": lambda: tools.curl(
                "-o", str(copies["curl"]), f"{url}/files/{CURL_FOLDER}/{FILE_NAME}/download"
            ),
            "client": lambda: tools.client(
                "download", f"{CLIENT_FOLDER}/{FILE_NAME}", str(copies["client"]), "-q"
            ),
        }
        rounds = {
            (kind, tool): _Rounds()
            for kind, transfers in (("up", uploads), ("down", downloads))
            for tool in transfers
        }
        for round_number in range(ROUNDS):
            for kind, transfers in (("up", uploads), ("down", downloads)):
                tools_in_order = list(transfers)
                first = round_number % len(tools_in_order)
                order = tools_in_order[first:] + tools_in_order[:first]
                for tool in order:
                    await _settled()
                    with measured(server.pid) as step:
                        peak = await transfers[tool]()
                    rounds[kind, tool].keep(step, peak)
                    if kind == "down":
                        _check_and_remove(copies[tool], options.file_size)
        return _results(rounds, options.file_size, start_up)


def _results(rounds: dict[tuple[str, str], _Rounds], size: int, start_up: float) -> list[Result]:
    label = format_size(size)
    results = []
    for kind, verb in (("up", "upload"), ("down", "download")):
        curl, client = rounds[kind, "curl"], rounds[kind, "client"]
        results.append(_result(f"curl: {verb} {label} file", size, curl.median, curl.peak_rss))
        single = " (one request)" if kind == "up" else ""
        results.append(
            _result(
                f"decode-cloud {verb} {label} file{single}",
                size,
                client.median,
                client.peak_rss,
                (curl.median, start_up),
            )
        )
        if kind == "up":
            session = rounds[kind, SESSION]
            plan = plan_parts(size)
            parts = f"{plan.part_count} parts of {format_size(plan.part_size)}"
            results.append(
                _result(
                    f"decode-cloud upload {label} file through an upload session"
                    f" ({parts}, {PARALLEL_PARTS} in parallel)",
                    size,
                    session.median,
                    session.peak_rss,
                    (curl.median, start_up),
                    target=False,
                )
            )
    return results


def _result(
    scenario: str,
    size: int,
    step: Measure,
    tool_rss: int,
    against: tuple[Measure, float] | None = None,
    target: bool = True,
) -> Result:
    """A transfer's figures; `against` is curl's measure and the client's start-up time;
    `target`: whether `CLIENT_SHARE` of curl's rate is required.

    The target is on the rate once started: the row's wall-clock rate must reach what
    `CLIENT_SHARE` of curl's rate plus the start-up time allow.
    """
    rate = size / MB / step.seconds
    tool = scenario.split(":")[0].split()[0]
    note = f"{tool} peak RSS {tool_rss / MIB:.1f} MiB"
    minimum = None
    if against is not None:
        curl, start_up = against
        if tool_rss / MIB >= CLIENT_RSS_TARGET_MIB:
            note += f" (over its {CLIENT_RSS_TARGET_MIB:g} MiB target)"
        curl_rate = size / MB / curl.seconds
        if target:
            minimum = size / MB / (start_up + size / MB / (CLIENT_SHARE * curl_rate))
        moving = size / MB / max(step.seconds - start_up, 1e-9)
        note += (
            f"; {moving:,.1f} MB/s ({moving / curl_rate:.0%} of curl's {curl_rate:,.1f} MB/s)"
            f" once started, {rate / curl_rate:.0%} including its {start_up:.2f} s of"
            " start-up (`decode-cloud whoami`)"
        )
    return Result(
        suite=SUITE,
        scenario=scenario,
        engine=ENGINE,
        value=rate,
        unit="MB/s",
        seconds=step.seconds,
        **usage(step),
        min_value=minimum,
        max_rss_growth_mib=RSS_TARGET_MIB,
        note=note,
        extra={"bytes": size, "tool_peak_rss_bytes": tool_rss},
    )
