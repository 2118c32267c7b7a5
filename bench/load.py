"""Closed-loop load: N clients, each sending its next request when the last one answered."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Call = Callable[[int], Awaitable[int]]
"""Send request number `n` and return the HTTP status after reading the whole body."""


@dataclass
class LoadOutcome:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        """Nearest-rank percentile of the successful requests, in milliseconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1] * 1000


async def run_load(
    call: Call, *, clients: int, duration: float, max_requests: int, ok: frozenset[int]
) -> LoadOutcome:
    """Run until `duration` seconds have passed or `max_requests` were sent."""
    outcome = LoadOutcome()
    counter = iter(range(max_requests))
    started = time.perf_counter()
    deadline = started + duration

    async def client() -> None:
        for number in counter:
            if time.perf_counter() >= deadline:
                return
            sent = time.perf_counter()
            try:
                status = await call(number)
            except Exception as exc:
                outcome.errors += 1
                outcome.first_error = outcome.first_error or f"{type(exc).__name__}: {exc}"
                continue
            if status in ok:
                outcome.latencies.append(time.perf_counter() - sent)
            else:
                outcome.errors += 1
                outcome.first_error = outcome.first_error or f"HTTP {status}"

    await asyncio.gather(*(client() for _ in range(clients)))
    outcome.seconds = time.perf_counter() - started
    return outcome
