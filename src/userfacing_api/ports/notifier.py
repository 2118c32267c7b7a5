"""Telling a job's owner that it has ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class JobEndedNotice:
    job_id: int
    job_name: str
    status: str
    recipient: str
    runtime_details: str | None


class Notifier(Protocol):
    async def job_ended(self, notice: JobEndedNotice) -> None:
        """Send the notice; failures are logged by the adapter, never raised."""
        ...
