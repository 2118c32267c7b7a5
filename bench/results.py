"""Measured figures, their verdict against the targets, and the two report formats."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from bench.load import LoadOutcome
from bench.timing import Measure
from bench.units import MIB
from bench.wrk import WrkOutcome

RSS_TARGET_MIB = 64.0
TRANSFER_TARGET_MBPS = 200.0
FLOOR_RATIO_TARGET = 0.70
"""The service's request rate over the floor app's, same endpoint, same run."""


@dataclass(frozen=True)
class Result:
    suite: str
    scenario: str
    engine: str
    value: float
    unit: str
    seconds: float
    rss_growth_bytes: int
    server_cpu: float
    client_cpu: float
    other_cpu: float
    requests: int = 1
    errors: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_rss_growth_mib: float | None = None
    floor_value: float | None = None
    """The same scenario's rate on the floor app (or on the other WORKERS setting)."""
    min_floor_ratio: float | None = None
    note: str = ""
    extra: dict[str, float | int] = field(default_factory=dict)

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_growth_bytes / MIB

    @property
    def floor_ratio(self) -> float | None:
        if self.floor_value is None:
            return None
        return self.value / self.floor_value if self.floor_value else 0.0

    @property
    def target(self) -> str:
        parts = []
        if self.min_floor_ratio is not None:
            parts.append(f">={self.min_floor_ratio:.0%} of floor")
        if self.min_value is not None:
            parts.append(f">={self.min_value:g} {self.unit}")
        if self.max_value is not None:
            parts.append(f"<{self.max_value:g} {self.unit}")
        if self.max_rss_growth_mib is not None:
            parts.append(f"RSS<{self.max_rss_growth_mib:g} MiB")
        return ", ".join(parts) or "report only"

    @property
    def verdict(self) -> str:
        if self.errors:
            return "FAIL"
        checks = []
        if self.min_floor_ratio is not None:
            checks.append((self.floor_ratio or 0.0) >= self.min_floor_ratio)
        if self.min_value is not None:
            checks.append(self.value >= self.min_value)
        if self.max_value is not None:
            checks.append(self.value < self.max_value)
        if self.max_rss_growth_mib is not None:
            checks.append(self.rss_growth_mib < self.max_rss_growth_mib)
        if not checks:
            return "-"
        return "PASS" if all(checks) else "FAIL"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            rss_growth_mib=round(self.rss_growth_mib, 2),
            floor_ratio=self.floor_ratio,
            target=self.target,
        )
        data["verdict"] = self.verdict
        return data


class Usage(TypedDict):
    """What a measured step cost the machine, as `Result` fields."""

    rss_growth_bytes: int
    server_cpu: float
    client_cpu: float
    other_cpu: float


def usage(step: Measure) -> Usage:
    return Usage(
        rss_growth_bytes=step.rss_growth,
        server_cpu=step.server_cpu,
        client_cpu=step.client_cpu,
        other_cpu=step.other_cpu,
    )


class RequestRate(Usage):
    """A load run's request rate and its cost, as `Result` fields."""

    value: float
    unit: str
    seconds: float
    requests: int
    errors: int


def request_rate(outcome: LoadOutcome | WrkOutcome, step: Measure) -> RequestRate:
    return RequestRate(
        value=outcome.per_second,
        unit="req/s",
        seconds=outcome.seconds,
        requests=outcome.requests,
        errors=outcome.errors,
        **usage(step),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(result: Result) -> str:
    ratio = result.floor_ratio
    return "-" if ratio is None else f"{ratio:.0%} of {result.floor_value:,.0f}"


def render_table(results: list[Result]) -> str:
    if not results:
        return "(no results)"
    header = (
        "scenario",
        "engine",
        "result",
        "vs floor",
        "p50 ms",
        "p99 ms",
        "RSS +MiB",
        "CPU srv/cli/oth",
        "errors",
        "target",
        "",
    )
    rows: list[tuple[str, ...]] = [header]
    rows.extend(
        (
            r.scenario,
            r.engine,
            f"{r.value:,.1f} {r.unit}",
            _ratio(r),
            _ms(r.p50_ms),
            _ms(r.p99_ms),
            f"{r.rss_growth_mib:.1f}",
            f"{r.server_cpu:.0%}/{r.client_cpu:.0%}/{r.other_cpu:.0%}",
            f"{r.errors}/{r.requests}",
            r.target,
            r.verdict,
        )
        for r in results
    )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    numeric = {2, 3, 4, 5, 6, 7, 8}

    def line(row: tuple[str, ...]) -> str:
        cells = (
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [line(rows[0]), rule, *(line(row) for row in rows[1:])]
    notes = [f"- {r.scenario} ({r.engine}): {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def write_json(path: Path, results: list[Result], context: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**context, "results": [result.as_json() for result in results]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    temporary.replace(path)
