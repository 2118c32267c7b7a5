"""Request rates of the service against the floor app, same requests, same run, via wrk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.options import Options
from bench.results import FLOOR_RATIO_TARGET, Result
from bench.server import Server
from bench.timing import measured
from bench.wrk import Requests, run_wrk

RATE_RSS_TARGET_MIB = 16.0


@dataclass(frozen=True)
class Reference:
    """What a rate is compared with: the floor app, or the service in another setting."""

    name: str
    per_second: float
    p99_ms: float | None


async def against_floor(
    label: str,
    engine: str,
    service: Server,
    floor: Server,
    requests: Requests,
    options: Options,
    workdir: Path,
) -> list[Result]:
    """For each client count: the floor, then the service, with the very same requests."""
    results = []
    for clients in options.clients:
        floor_outcome = await run_wrk(
            floor.base_url, requests, clients=clients, seconds=options.duration, workdir=workdir
        )
        results.append(
            await measured_rate(
                f"{label}, {clients} clients",
                engine,
                service,
                requests,
                clients,
                options,
                workdir,
                Reference("floor", floor_outcome.per_second, floor_outcome.p99_ms),
            )
        )
    return results


async def measured_rate(
    scenario: str,
    engine: str,
    service: Server,
    requests: Requests,
    clients: int,
    options: Options,
    workdir: Path,
    reference: Reference | None,
    *,
    ratio_target: float | None = FLOOR_RATIO_TARGET,
) -> Result:
    """One wrk run against the service, with its ratio to `reference` (the floor's run)."""
    with measured(service.pid) as step:
        outcome = await run_wrk(
            service.base_url, requests, clients=clients, seconds=options.duration, workdir=workdir
        )
    note = ""
    if reference is not None:
        p99 = "-" if reference.p99_ms is None else f"{reference.p99_ms:.2f}"
        note = f"{reference.name}: {reference.per_second:,.0f} req/s, p99 {p99} ms"
    return Result(
        suite="rates",
        scenario=scenario,
        engine=engine,
        value=outcome.per_second,
        unit="req/s",
        seconds=outcome.seconds,
        rss_growth_bytes=step.rss_growth,
        server_cpu=step.server_cpu,
        client_cpu=step.client_cpu,
        other_cpu=step.other_cpu,
        requests=outcome.requests,
        errors=outcome.errors,
        p50_ms=outcome.p50_ms,
        p99_ms=outcome.p99_ms,
        max_rss_growth_mib=RATE_RSS_TARGET_MIB,
        floor_value=None if reference is None else reference.per_second,
        min_floor_ratio=None if reference is None else ratio_target,
        note=note,
    )
