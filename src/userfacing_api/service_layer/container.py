"""The use cases and ports the HTTP adapter works with, assembled by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.ports.identity import IdentityProvider, TokenVerifier
from userfacing_api.service_layer.files import FileService
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.jobs import JobService
from userfacing_api.service_layer.readiness import ReadinessService


@dataclass(frozen=True)
class Services:
    files: FileService
    token_verifier: TokenVerifier
    identity_provider: IdentityProvider | None
    jobs: JobService
    job_status: JobStatusService
    readiness: ReadinessService
