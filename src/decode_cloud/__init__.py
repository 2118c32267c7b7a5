"""decode-cloud: the command line and Python client of DECODE OpenCloud.

It speaks the service's HTTP API only. `Client` is for ordinary and notebook code,
`AsyncClient` for asyncio programs; both take the service URL and the login that
`decode-cloud login` cached.
"""

from decode_cloud.aio import AsyncClient
from decode_cloud.client import Client
from decode_cloud.downloads import Downloaded
from decode_cloud.errors import (
    ApiError,
    DecodeCloudError,
    JobFailed,
    LocalPathError,
    LoginFailed,
    NotLoggedIn,
    Unreachable,
)
from decode_cloud.jobs import JobSpec
from decode_cloud.models import FileEntry, Job, JobEvent
from decode_cloud.uploads import UploadOutcome

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "DecodeCloudError",
    "Downloaded",
    "FileEntry",
    "Job",
    "JobEvent",
    "JobFailed",
    "JobSpec",
    "LocalPathError",
    "LoginFailed",
    "NotLoggedIn",
    "Unreachable",
    "UploadOutcome",
]
