"""Metrics in the Prometheus text format, one registry per application.

Labels carry only bounded, non-personal values: route templates (never the
paths of a request), methods, statuses, outcomes. No user id, e-mail or path.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PrometheusMetrics:
    """Every metric of the service; `render()` is what `GET /metrics` answers."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "userfacing_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "userfacing_http_request_duration_seconds",
            "Time to answer an HTTP request (a download until its last byte is sent)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._transitions = Counter(
            "userfacing_job_status_transitions",
            "Jobs moving from one status to another ('none' for a new job)",
            ["from_status", "to_status"],
            registry=registry,
        )
        self._attempts = Counter(
            "userfacing_job_delivery_attempts",
            "Attempts to hand a job to the worker-facing API, by outcome",
            ["outcome"],
            registry=registry,
        )
        self._failures = Counter(
            "userfacing_job_delivery_failures",
            "Deliveries that failed: an attempt that did not deliver, or a job given up on",
            ["reason"],
            registry=registry,
        )
        self._reloads = Counter(
            "userfacing_catalogue_reloads",
            "Reloads of the application catalogue after it changed, by result",
            ["result"],
            registry=registry,
        )
        self._outbox_pending = Gauge(
            "userfacing_job_outbox_pending",
            "Jobs waiting to be delivered to the worker-facing API (read when scraped)",
            registry=registry,
        )
        self._outbox_wait = Gauge(
            "userfacing_job_outbox_oldest_pending_age_seconds",
            "How long the oldest job waiting for delivery has waited (0 when none waits)",
            registry=registry,
        )
        self._uploaded = Counter(
            "userfacing_uploaded_bytes", "Bytes of files received from clients", registry=registry
        )
        self._downloaded = Counter(
            "userfacing_downloaded_bytes", "Bytes of files sent to clients", registry=registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def request_answered(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled series of a request kind, looked up once: `labels()` costs more
        # than counting (there are only so many methods, routes and statuses).
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            series = (
                self._requests.labels(method, route, str(status)),
                self._latency.labels(method, route),
            )
            self._request_series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def job_status_changed(self, before: str | None, after: str) -> None:
        self._transitions.labels(before or "none", after).inc()

    def delivery_attempted(self, outcome: str) -> None:
        self._attempts.labels(outcome).inc()
        if outcome != "delivered":
            self._failures.labels(outcome).inc()

    def delivery_abandoned(self) -> None:
        self._failures.labels("deadline").inc()

    def catalogue_reloaded(self, succeeded: bool) -> None:
        self._reloads.labels("success" if succeeded else "failure").inc()

    def outbox_observed(self, pending: int, oldest_wait_seconds: float) -> None:
        self._outbox_pending.set(pending)
        self._outbox_wait.set(oldest_wait_seconds)

    def bytes_uploaded(self, count: int) -> None:
        self._uploaded.inc(count)

    def bytes_downloaded(self, count: int) -> None:
        self._downloaded.inc(count)
