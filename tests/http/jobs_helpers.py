"""Shared pieces of the HTTP tests of jobs: request bodies, input folders, the caller's id."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.settings import Settings


def job_body(job_name: str = "run1", **changes: Any) -> dict[str, Any]:
    """A JobCreate for `decode v0_10_1 train` reading `config/exp1` and `data/beads`."""
    body: dict[str, Any] = {
        "job_name": job_name,
        "environment": "cloud",
        "priority": 1,
        "application": {"application": "decode", "version": "v0_10_1", "entrypoint": "train"},
        "attributes": {
            "files_down": {"config_id": "exp1", "data_ids": ["beads"], "artifact_ids": []},
            "env_vars": {},
        },
        "hardware": None,
    }
    body.update(changes)
    return body


def with_files_down(**files_down: Any) -> dict[str, Any]:
    """`attributes` whose `files_down` has the given fields (others left out)."""
    return {"files_down": files_down, "env_vars": {}}


def user_id_of(headers: dict[str, str]) -> str:
    """The `cognito:username` claim of the caller's token."""
    payload = headers["Authorization"].removeprefix("Bearer ").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["cognito:username"])


async def _bytes(content: bytes) -> AsyncIterable[bytes]:
    yield content


class UserFiles:
    """The users' trees of the service under test, written directly through its storage."""

    def __init__(self, settings: Settings) -> None:
        self.storage = LocalFileStorage(Path(settings.storage.user_data_root_path))
        self.root = Path(settings.storage.user_data_root_path)

    async def put(self, user_id: str, path: str, content: bytes = b"x") -> None:
        await self.storage.write(UserId(user_id), UserPath(path), _bytes(content))

    async def put_inputs(self, user_id: str) -> None:
        """The input folders of `job_body()`."""
        await self.put(user_id, "config/exp1/param.yaml")
        await self.put(user_id, "data/beads/calib.mat")

    def exists(self, user_id: str, path: str) -> bool:
        return (self.root / user_id / path).exists()
