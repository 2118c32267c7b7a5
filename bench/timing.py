"""Wall-clock, CPU and server memory of one measured step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from bench.memory import RssSampler

BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq", "steal")


@dataclass
class Measure:
    seconds: float = 0.0
    rss_growth: int = 0
    server_cpu: float = 0.0
    """CPU seconds of the server (all threads) per wall-clock second: 1.0 is one full core."""
    client_cpu: float = 0.0
    """The same for this process, the load generator, which shares the machine."""
    other_cpu: float = 0.0
    """Busy cores of every other process: load that competed with the measurement."""


def _cpu_seconds(process: psutil.Process, *, children: bool = False) -> float:
    """Of the process, and with `children` of its children too (the server's processes
    with `WORKERS` > 1; not the benchmark's, whose children are wrk, floor and server)."""
    total = 0.0
    for member in (process, *(process.children(recursive=True) if children else ())):
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()._asdict()
    return float(sum(times.get(name, 0.0) for name in BUSY_FIELDS))


@contextmanager
def measured(server_pid: int) -> Iterator[Measure]:
    """Time the block and record the server's peak RSS growth over its RSS at the start."""
    measure = Measure()
    server, client = psutil.Process(server_pid), psutil.Process()
    server_before, client_before = _cpu_seconds(server, children=True), _cpu_seconds(client)
    machine_before = _machine_busy_seconds()
    with RssSampler(server_pid) as sampler:
        started = time.perf_counter()
        try:
            yield measure
        finally:
            measure.seconds = time.perf_counter() - started
    measure.rss_growth = sampler.growth
    if measure.seconds > 0:
        measure.server_cpu = (_cpu_seconds(server, children=True) - server_before) / measure.seconds
        measure.client_cpu = (_cpu_seconds(client) - client_before) / measure.seconds
        machine = (_machine_busy_seconds() - machine_before) / measure.seconds
        measure.other_cpu = max(0.0, machine - measure.server_cpu - measure.client_cpu)
