"""Handing a job to the worker side: the payload it receives and the retry rules.

An accepted job is stored together with its payload (a transactional outbox), so
a job is never lost between this service and the worker-facing API: delivery
is retried with exponential back-off until the worker side takes it, rejects
it, or the delivery deadline passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from userfacing_api.domain.applications import Entrypoint
from userfacing_api.domain.jobs import Hardware, Job

# Far beyond any useful back-off, small enough for a float.
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class Lease:
    """Who holds a delivery (`token`) and until when; nobody else sends it meanwhile."""

    token: str
    until: datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter, capped at `max_delay` seconds."""

    first_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, failures: int, jitter: float) -> timedelta:
        """The pause after the `failures`-th failed attempt; `jitter` is drawn from [0, 1).

        The pause is drawn from the upper half of the exponential step, so that
        deliveries that failed together do not retry together.
        """
        exponent = min(max(failures - 1, 0), _MAX_EXPONENT)
        step = min(self.max_delay, self.first_delay * 2**exponent)
        return timedelta(seconds=step * (0.5 + jitter / 2))


def job_payload(
    job: Job,
    entrypoint: Entrypoint,
    files_down: Mapping[str, str],
    paths_upload: Mapping[str, str],
) -> dict[str, Any]:
    """The body of `POST /_jobs` on the worker-facing API for `job`.

    `files_down` maps container paths to storage URIs of the input files and
    `paths_upload` the kinds of `Job.paths_out` to storage URIs.
    """
    spec = job.spec
    return {
        "job": {
            "app": {"cmd": list(entrypoint.cmd), "env": dict(spec.env_vars)},
            "handler": {
                "image_url": entrypoint.image_url,
                "image_name": spec.application.application,
                "image_version": spec.application.version,
                "entrypoint": spec.application.entrypoint,
                "files_down": dict(files_down),
                "files_up": dict(entrypoint.files_up),
            },
            "meta": {"job_id": job.id, "date_created": job.date_created.isoformat()},
            "hardware": asdict(spec.hardware or Hardware()),
        },
        "environment": None if spec.environment is None else spec.environment.value,
        "group": None,
        "priority": spec.priority,
        "paths_upload": dict(paths_upload),
    }


def container_path(root: str, relative: str) -> str:
    """Where a file `relative` to its input folder lands in the job's container."""
    return f"{root}/{relative}"


def delivery_failed_details(deadline: timedelta, last_error: str | None) -> str:
    """The `runtime_details` line of a job the worker side never took."""
    reason = f"; last error: {last_error}" if last_error else ""
    return (
        f"Not delivered to the workers within {deadline.total_seconds():g} s"
        f" of its creation{reason}"
    )


def delivery_rejected_details(detail: str) -> str:
    return f"Rejected by the worker-facing API: {detail}"
