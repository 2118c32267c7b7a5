"""A job's history: one event per change of status, and per word from the worker side.

Events are numbered (`seq`) in the order they were recorded, across all jobs,
so a client that saw event `n` resumes with the events after `n`. A status
report that repeats the current status without details (the workers'
keep-alive) is no event. Delivery trouble is: the first failed attempt to hand
a job to the worker side and its eventual delivery each add one, so a job that
stays `queued` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from userfacing_api.domain.jobs import Job, JobStatus


@dataclass(frozen=True)
class NewJobEvent:
    job_id: int
    user_id: str
    time: datetime
    status: JobStatus
    runtime_details: str | None = None


@dataclass(frozen=True)
class JobEvent:
    seq: int
    job_id: int
    time: datetime
    status: JobStatus
    runtime_details: str | None

    @property
    def ends_stream(self) -> bool:
        """A job's stream closes after its terminal status: nothing follows it."""
        return self.status.has_ended


def created_event(job: Job) -> NewJobEvent:
    """The first event of every job: `queued` at its creation."""
    return NewJobEvent(job.id, job.user_id, job.date_created, JobStatus.QUEUED)


def report_event(
    before: Job, after: Job, reported_details: str | None, now: datetime
) -> NewJobEvent | None:
    """The event a status report adds, or None for a keep-alive.

    A report is an event when it changes the status or brings details; its
    details are the ones reported (NUL characters dropped), not the job's whole text.
    """
    details = reported_details.replace("\x00", "") if reported_details else None
    if after.status is before.status and not details:
        return None
    return NewJobEvent(after.id, after.user_id, now, after.status, details or None)


def status_event(job: Job, now: datetime, details: str | None = None) -> NewJobEvent:
    """The event of a change the service itself made (cancel, give-up, delivery news)."""
    return NewJobEvent(job.id, job.user_id, now, job.status, details)


def delivery_retrying_details(error: str) -> str:
    """What a job's owner reads when its first delivery attempt failed."""
    return f"Not yet handed to the workers ({error}); retrying"


def delivered_details(failed_attempts: int) -> str:
    """What a job's owner reads when a delivery that had failed went through."""
    attempts = "attempt" if failed_attempts == 1 else "attempts"
    return f"Handed to the workers after {failed_attempts} failed {attempts}"
