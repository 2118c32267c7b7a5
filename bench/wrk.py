"""Request-rate scenarios driven by `wrk`, a load generator written in C.

A load generator in Python tops out around 2,000 requests per second on a small
machine, below what a bare aiohttp app serves: every ratio against the floor
would read as fine. `wrk` is not. Each scenario gets a Lua script that builds
its requests once (one per job id, spread over the table) and prints wrk's
summary as one JSON line when the run ends.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is not on PATH: install it (Debian/Ubuntu: apt-get install -y wrk)"
THREADS = 1
"""One thread of wrk saturates this service many times over and leaves the cores to it."""
TIMEOUT_SECONDS = 10

_SCRIPT = """
local method = {method}
local paths = {paths}
local bodies = {bodies}
local headers = {headers}
local prepared = {{}}
local counter = 0

function init(args)
  for index, path in ipairs(paths) do
    prepared[index] = wrk.format(method, path, headers, bodies[index])
  end
end

function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\\nWRK-JSON {{"requests": %d, "microseconds": %d, "failed": %d,'
    .. ' "p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class WrkFailed(RuntimeError):
    """wrk could not run or printed no summary."""


@dataclass(frozen=True)
class Requests:
    """What one scenario sends: requests cycle through `paths` (and `bodies`, same order)."""

    method: str
    paths: Sequence[str]
    headers: Mapping[str, str]
    bodies: Sequence[str] | None = None


@dataclass(frozen=True)
class WrkOutcome:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def combined(outcomes: Sequence[WrkOutcome]) -> WrkOutcome:
    """Several runs as one: counts and time added up, the median of the medians and the
    worst p99 (the runs' latencies themselves are not kept)."""
    medians = sorted(outcome.p50_ms for outcome in outcomes)
    return WrkOutcome(
        requests=sum(outcome.requests for outcome in outcomes),
        seconds=sum(outcome.seconds for outcome in outcomes),
        errors=sum(outcome.errors for outcome in outcomes),
        p50_ms=medians[len(medians) // 2],
        p99_ms=max(outcome.p99_ms for outcome in outcomes),
    )


def wrk_available(skipped: str) -> bool:
    """Whether wrk is on PATH; if not, say which scenarios are skipped and how to install it."""
    if shutil.which("wrk") is not None:
        return True
    print(f"{skipped} skipped: {INSTALL_HINT}", file=sys.stderr, flush=True)
    return False


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


def _lua_list(values: Sequence[str]) -> str:
    return "{" + ", ".join(_lua_string(value) for value in values) + "}"


def write_script(requests: Requests, path: Path) -> Path:
    if requests.bodies is not None and len(requests.bodies) != len(requests.paths):
        raise ValueError("one body per path")
    headers = (
        "{"
        + ", ".join(
            f"[{_lua_string(name)}] = {_lua_string(value)}"
            for name, value in requests.headers.items()
        )
        + "}"
    )
    path.write_text(
        _SCRIPT.format(
            method=_lua_string(requests.method),
            paths=_lua_list(requests.paths),
            bodies=_lua_list(requests.bodies or ()),
            headers=headers,
        )
    )
    return path


async def run_wrk(
    base_url: str, requests: Requests, *, clients: int, seconds: float, workdir: Path
) -> WrkOutcome:
    """Closed-loop load from `clients` connections for `seconds`.

    Failed connections, timeouts and answers other than 2xx/3xx count as errors.
    """
    script = write_script(requests, workdir / f"wrk-{requests.method.lower()}.lua")
    process = await asyncio.create_subprocess_exec(
        "wrk",
        f"--threads={min(THREADS, clients)}",
        f"--connections={clients}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={script}",
        base_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("WRK-JSON "):
            summary = json.loads(line.removeprefix("WRK-JSON "))
            return WrkOutcome(
                requests=int(summary["requests"]),
                seconds=summary["microseconds"] / 1e6,
                errors=int(summary["failed"]),
                p50_ms=summary["p50_us"] / 1000,
                p99_ms=summary["p99_us"] / 1000,
            )
    raise WrkFailed(f"wrk exited with {process.returncode}: {text[-500:]}")
