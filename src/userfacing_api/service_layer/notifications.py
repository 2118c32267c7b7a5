"""Telling a job's owner, in the background, that their job has ended."""

from __future__ import annotations

from userfacing_api.domain.jobs import Job, JobStatus, has_entered_end
from userfacing_api.ports.background import BackgroundWork
from userfacing_api.ports.notifier import JobEndedNotice, Notifier


class JobEndNotifications:
    def __init__(self, notifier: Notifier, tasks: BackgroundWork) -> None:
        self._notifier = notifier
        self._tasks = tasks

    def status_changed(self, before: JobStatus, job: Job) -> None:
        """Send a notice if the job has just entered `finished` or `error` and has an address.

        Returns at once: the notice is sent in the background, and a failure to
        send it never affects the job.
        """
        if not has_entered_end(before, job.status) or not job.user_email:
            return
        notice = JobEndedNotice(
            job_id=job.id,
            job_name=job.spec.job_name,
            status=job.status.value,
            recipient=job.user_email,
            runtime_details=job.runtime_details,
        )
        self._tasks.spawn(self._notifier.job_ended(notice), name=f"notice for job {job.id}")
