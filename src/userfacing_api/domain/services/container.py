"""The use cases and ports the HTTP adapter works with, assembled by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.domain.services.files import FileService
from userfacing_api.domain.services.job_status import JobStatusService
from userfacing_api.domain.services.jobs import JobService
from userfacing_api.domain.services.readiness import ReadinessService
from userfacing_api.ports.identity import IdentityProvider, TokenVerifier


@dataclass(frozen=True)
class Services:
    files: FileService
    token_verifier: TokenVerifier
    identity_provider: IdentityProvider | None
    jobs: JobService
    job_status: JobStatusService
    readiness: ReadinessService
