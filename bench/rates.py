"""Request rates of the service against the floor app, same requests, same run, via wrk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.options import Options
from bench.results import FLOOR_RATIO_TARGET, Result, request_rate
from bench.server import Server
from bench.timing import Measure, measured
from bench.wrk import Requests, WrkOutcome, combined, run_wrk

RATE_RSS_TARGET_MIB = 16.0
ROUNDS = 2
"""Turns each side takes in a comparison; the figures are those of all turns together."""


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
    """For each client count, the floor and the service take turns, `ROUNDS` times each,
    with the very same requests: a machine whose load drifts affects both alike."""
    results = []
    for clients in options.clients:
        floor_runs: list[WrkOutcome] = []
        service_runs: list[WrkOutcome] = []
        steps: list[Measure] = []
        for _ in range(ROUNDS):
            floor_runs.append(await _wrk(floor, requests, clients, options, workdir))
            with measured(service.pid) as step:
                service_runs.append(await _wrk(service, requests, clients, options, workdir))
            steps.append(step)
        floor_outcome = combined(floor_runs)
        results.append(
            rate_result(
                f"{label}, {clients} clients",
                engine,
                combined(service_runs),
                combined_measure(steps),
                Reference("floor", floor_outcome.per_second, floor_outcome.p99_ms),
                FLOOR_RATIO_TARGET,
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
    reference: Reference,
) -> Result:
    """The service's rate (as many seconds as a floor comparison takes), against
    `reference`, with no target."""
    runs: list[WrkOutcome] = []
    steps: list[Measure] = []
    for _ in range(ROUNDS):
        with measured(service.pid) as step:
            runs.append(await _wrk(service, requests, clients, options, workdir))
        steps.append(step)
    return rate_result(scenario, engine, combined(runs), combined_measure(steps), reference, None)


async def _wrk(
    server: Server, requests: Requests, clients: int, options: Options, workdir: Path
) -> WrkOutcome:
    return await run_wrk(
        server.base_url,
        requests,
        clients=clients,
        seconds=options.duration / ROUNDS,
        workdir=workdir,
    )


def combined_measure(steps: list[Measure]) -> Measure:
    """Several measured steps as one: time and CPU added up, the largest RSS growth."""
    seconds = sum(step.seconds for step in steps)

    def rate(busy: float) -> float:
        return busy / seconds if seconds else 0.0

    return Measure(
        seconds=seconds,
        rss_growth=max(step.rss_growth for step in steps),
        server_cpu=rate(sum(step.server_cpu * step.seconds for step in steps)),
        client_cpu=rate(sum(step.client_cpu * step.seconds for step in steps)),
        other_cpu=rate(sum(step.other_cpu * step.seconds for step in steps)),
    )


def rate_result(
    scenario: str,
    engine: str,
    outcome: WrkOutcome,
    step: Measure,
    reference: Reference,
    ratio_target: float | None,
) -> Result:
    p99 = "-" if reference.p99_ms is None else f"{reference.p99_ms:.2f}"
    return Result(
        suite="rates",
        scenario=scenario,
        engine=engine,
        **request_rate(outcome, step),
        p50_ms=outcome.p50_ms,
        p99_ms=outcome.p99_ms,
        max_rss_growth_mib=RATE_RSS_TARGET_MIB,
        floor_value=reference.per_second,
        min_floor_ratio=ratio_target,
        note=f"{reference.name}: {reference.per_second:,.0f} req/s, p99 {p99} ms",
    )
