"""Upload sessions on the local disk: what the contract cannot see from outside."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.contract.upload_backends import local_world
from userfacing_api.domain.errors import NotFound
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT

ALICE = UserId("alice")


async def chunks_of(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def test_a_part_arriving_after_the_session_was_discarded_leaves_nothing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = (await world.service().create(ALICE, "data/a.bin", 4)).session
        await world.uploads.discard(session)

        with pytest.raises(NotFound):
            await world.uploads.write_part(session, 1, chunks_of(b"late"))

        assert await world.uploads.sessions() == []
        assert not (
            tmp_path / "user_data" / ".upload-sessions" / ALICE / session.upload_id
        ).exists()


async def test_sessions_live_outside_every_users_tree(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = (await world.service().create(ALICE, "data/a.bin", 4)).session
        await world.send_part(ALICE, session.upload_id, 1, b"abcd")

        record = tmp_path / "user_data" / ".upload-sessions" / ALICE / session.upload_id
        paths = {entry.path for entry in await world.files.list(ALICE, ROOT, recursive=True)}

        assert (record / "session.json").is_file()
        assert (record / "part-00001").read_bytes() == b"abcd"
        assert "data" in paths
        assert not any(session.upload_id in path or path.startswith(".") for path in paths)
