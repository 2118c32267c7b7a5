"""What the service answers, as typed values; `raw` keeps the answer for `--json`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from decode_cloud.errors import LocalPathError

TERMINAL_STATUSES = frozenset({"finished", "error", "cancelled"})


@dataclass(frozen=True)
class FileEntry:
    path: str
    is_folder: bool
    size: str
    """The service's human-readable size (`"1.2 MB"`; empty for folders)."""
    size_bytes: int | None = None
    """Exact size, from services that report it."""
    modified: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEntry:
        size_bytes = data.get("size_bytes")
        return cls(
            path=str(data["path"]),
            is_folder=data.get("type") == "directory",
            size=str(data.get("size") or ""),
            size_bytes=int(size_bytes) if size_bytes is not None else None,
            modified=data.get("modified"),
            raw=data,
        )


@dataclass(frozen=True)
class JobEvent:
    seq: int
    time: str
    status: str
    runtime_details: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobEvent:
        return cls(
            seq=int(data.get("seq", 0)),
            time=str(data.get("time", "")),
            status=str(data["status"]),
            runtime_details=data.get("runtime_details"),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    status: str
    application: str
    """`application:version:entrypoint`, as `jobs submit --app` takes it."""
    date_created: str | None
    date_started: str | None
    date_finished: str | None
    runtime_details: str | None
    paths_out: dict[str, str]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        app = data.get("application") or {}
        return cls(
            id=int(data["id"]),
            name=str(data["job_name"]),
            status=str(data["status"]),
            application=":".join(
                str(app.get(key, "")) for key in ("application", "version", "entrypoint")
            ),
            date_created=data.get("date_created"),
            date_started=data.get("date_started"),
            date_finished=data.get("date_finished"),
            runtime_details=data.get("runtime_details"),
            paths_out=dict(data.get("paths_out") or {}),
            raw=data,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class JobSpec:
    """What `jobs submit` sends; `app` is `application:version:entrypoint`."""

    name: str
    app: str
    config: str
    data: Sequence[str] = ()
    artifacts: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    priority: int | None = None
    environment: str | None = None

    def body(self) -> dict[str, Any]:
        parts = self.app.split(":")
        if len(parts) != 3 or not all(parts):
            raise LocalPathError(
                f"--app {self.app!r}: expected application:version:entrypoint,"
                " e.g. decode:v0_10_1:train (see `decode-cloud apps`)"
            )
        application, version, entrypoint = parts
        return {
            "job_name": self.name,
            "environment": self.environment,
            "priority": self.priority,
            "application": {
                "application": application,
                "version": version,
                "entrypoint": entrypoint,
            },
            "attributes": {
                "files_down": {
                    "config_id": self.config,
                    "data_ids": list(self.data),
                    "artifact_ids": list(self.artifacts),
                },
                "env_vars": dict(self.env),
            },
            "hardware": None,
        }
