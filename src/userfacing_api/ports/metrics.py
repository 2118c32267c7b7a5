"""What the use cases report for operators to watch (counted by a metrics adapter)."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def job_status_changed(self, before: str | None, after: str) -> None:
        """A job moved from status `before` (None: it was just created) to `after`."""
        ...

    def delivery_attempted(self, outcome: str) -> None:
        """One attempt to hand a job to the worker side ended with `outcome`:
        `delivered`, `rejected`, `unavailable` or `no_answer`."""
        ...

    def delivery_abandoned(self) -> None:
        """A job was given up on: not delivered within the delivery deadline."""
        ...


class NoMetrics:
    """Counts nothing: for wiring where nobody watches."""

    def job_status_changed(self, before: str | None, after: str) -> None:
        pass

    def delivery_attempted(self, outcome: str) -> None:
        pass

    def delivery_abandoned(self) -> None:
        pass
