"""decode-cloud: the command line and Python client of DECODE OpenCloud.

It speaks the service's HTTP API only. `Client` is for ordinary and notebook code,
`AsyncClient` for asyncio programs; both take the service URL and the login that
`decode-cloud login` cached.

The names below are imported on first use: the command line starts without loading
aiohttp until a command needs the network.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from decode_cloud.errors import (
    ApiError,
    DecodeCloudError,
    JobFailed,
    LocalPathError,
    LoginFailed,
    NotLoggedIn,
    Unreachable,
)
from decode_cloud.models import FileEntry, Job, JobEvent, JobSpec

if TYPE_CHECKING:
    from decode_cloud.aio import AsyncClient
    from decode_cloud.client import Client
    from decode_cloud.downloads import Downloaded
    from decode_cloud.uploads import UploadOutcome

_LAZY = {
    "AsyncClient": "decode_cloud.aio",
    "Client": "decode_cloud.client",
    "Downloaded": "decode_cloud.downloads",
    "UploadOutcome": "decode_cloud.uploads",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
