"""The notifier used when no e-mail service is configured."""

from __future__ import annotations

from userfacing_api.ports.notifier import JobEndedNotice


class NullNotifier:
    async def job_ended(self, notice: JobEndedNotice) -> None:
        """Drop the notice: there is no one to hand it to."""
