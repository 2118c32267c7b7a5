"""The use cases and ports the HTTP adapter works with, assembled by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from userfacing_api.ports.identity import IdentityProvider, TokenVerifier
from userfacing_api.service_layer.files import FileService
from userfacing_api.service_layer.job_events import JobEventService
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.jobs import JobService
from userfacing_api.service_layer.uploads import UploadService


class Readiness(Protocol):
    async def check(self) -> None:
        """Return when every part the service needs answers; raise `Unavailable` otherwise."""
        ...


@dataclass(frozen=True)
class Services:
    files: FileService
    uploads: UploadService
    token_verifier: TokenVerifier
    identity_provider: IdentityProvider | None
    jobs: JobService
    job_status: JobStatusService
    job_events: JobEventService
    readiness: Readiness
