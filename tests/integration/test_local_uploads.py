"""Upload sessions on the local disk: what the contract cannot see from outside.

Every part is written in place into the session's one data file, which completing
renames to the user's path: the bytes are written once.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.contract.upload_backends import UploadWorld, local_world
from tests.waiting import eventually
from userfacing_api.adapters.storage.local_session_files import SessionFolder
from userfacing_api.domain.errors import BadRequest, Conflict, Incomplete, NotFound, StorageFull
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT, UserPath
from userfacing_api.domain.uploads import MIN_PART_SIZE, UploadSession

ALICE = UserId("alice")
PART = MIN_PART_SIZE
CONTENT = random.Random(5).randbytes(2 * PART + 1000)
PARTS = {1: CONTENT[:PART], 2: CONTENT[PART : 2 * PART], 3: CONTENT[2 * PART :]}


async def chunks_of(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def failing_after(content: bytes) -> AsyncIterator[bytes]:
    """`content`, then the connection drops."""
    yield content
    raise BadRequest("The upload was interrupted")


def session_folder(tmp_path: Path, session: UploadSession) -> Path:
    return tmp_path / "user_data" / ".upload-sessions" / session.user_id / session.upload_id


async def started(world: UploadWorld, size: int = len(CONTENT)) -> UploadSession:
    return (await world.service().create(ALICE, "data/movie.tif", size)).session


async def test_parallel_parts_land_at_their_offsets_in_one_data_file(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)

        await asyncio.gather(
            *(world.send_part(ALICE, session.upload_id, n, PARTS[n]) for n in (3, 1, 2))
        )

        folder = session_folder(tmp_path, session)
        assert (folder / "data").read_bytes() == CONTENT
        assert sorted(path.name for path in folder.iterdir()) == [
            "data",
            "done-00001",
            "done-00002",
            "done-00003",
            "session.json",
        ]


async def test_completing_renames_the_data_file_and_copies_nothing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)
        for number, content in PARTS.items():
            await world.send_part(ALICE, session.upload_id, number, content)
        folder = session_folder(tmp_path, session)
        data = os.stat(folder / "data")

        info = await world.service().complete(ALICE, session.upload_id)

        final = tmp_path / "user_data" / ALICE / "data" / "movie.tif"
        assert (os.stat(final).st_ino, os.stat(final).st_dev) == (data.st_ino, data.st_dev)
        assert final.read_bytes() == CONTENT
        assert info.size == len(CONTENT)
        assert sorted(path.name for path in folder.iterdir()) == ["session.json"]


async def test_a_part_sent_again_replaces_its_bytes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)
        for number, content in PARTS.items():
            await world.send_part(ALICE, session.upload_id, number, content)
        other = bytes(reversed(PARTS[2]))

        await world.send_part(ALICE, session.upload_id, 2, other)
        await world.service().complete(ALICE, session.upload_id)

        stored = (tmp_path / "user_data" / ALICE / "data" / "movie.tif").read_bytes()
        assert stored == PARTS[1] + other + PARTS[3]


async def test_a_part_cut_short_is_not_counted_even_when_it_was_stored_before(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)
        for number, content in PARTS.items():
            await world.send_part(ALICE, session.upload_id, number, content)

        with pytest.raises(BadRequest):
            await world.uploads.write_part(session, 2, failing_after(b"x" * 1000))

        assert (await world.service().get(ALICE, session.upload_id)).parts_done == [1, 3]
        with pytest.raises(Incomplete):
            await world.service().complete(ALICE, session.upload_id)
        assert await world.files.stat(ALICE, UserPath("data/movie.tif")) is None


async def test_a_part_that_fills_the_disk_is_507_and_not_counted(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(self: SessionFolder, descriptor: int, chunk: bytes, offset: int) -> None:
        with self.errors():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    async with local_world(request, tmp_path) as world:
        session = await started(world)
        await world.send_part(ALICE, session.upload_id, 1, PARTS[1])
        monkeypatch.setattr(SessionFolder, "write_at", full_disk)

        with pytest.raises(StorageFull):
            await world.send_part(ALICE, session.upload_id, 2, PARTS[2])

        assert (await world.service().get(ALICE, session.upload_id)).parts_done == [1]


async def test_a_part_being_stored_keeps_a_second_copy_and_completion_out(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)
        for number, content in PARTS.items():
            await world.send_part(ALICE, session.upload_id, number, content)
        folder = SessionFolder(str(session_folder(tmp_path, session)), session)
        descriptor = await asyncio.to_thread(folder.open_part, 2)  # a request still sending
        try:
            with pytest.raises(Conflict):
                await world.uploads.write_part(session, 2, chunks_of(PARTS[2]))
            with pytest.raises(Incomplete):
                await world.uploads.assemble(session)
        finally:
            os.close(descriptor)

        await world.send_part(ALICE, session.upload_id, 2, PARTS[2])
        await world.service().complete(ALICE, session.upload_id)
        stored = (tmp_path / "user_data" / ALICE / "data" / "movie.tif").read_bytes()
        assert stored == CONTENT


async def test_completion_refuses_while_the_data_file_is_locked_by_a_writer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world, size=4)
        await world.send_part(ALICE, session.upload_id, 1, b"abcd")
        folder = SessionFolder(str(session_folder(tmp_path, session)), session)
        completing = await asyncio.to_thread(folder.lock_for_completion)
        try:
            with pytest.raises(Conflict):
                await world.uploads.write_part(session, 1, chunks_of(b"wxyz"))
            with pytest.raises(Incomplete):
                await world.uploads.assemble(session)
        finally:
            os.close(completing)

        assert (await world.service().get(ALICE, session.upload_id)).parts_done == [1]


async def test_an_abandoned_session_is_swept_with_its_data_file(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with local_world(request, tmp_path) as world:
        session = await started(world)
        await world.send_part(ALICE, session.upload_id, 1, PARTS[1])
        world.clock.advance(25 * 3600)

        assert await world.service().sweep() == 1

        assert not session_folder(tmp_path, session).exists()
        assert list((tmp_path / "user_data" / ".upload-sessions" / ALICE).iterdir()) == []


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
        assert (record / "data").read_bytes() == b"abcd"
        assert (record / "done-00001").is_file()
        assert "data" in paths
        assert not any(session.upload_id in path or path.startswith(".") for path in paths)


async def test_a_part_request_cancelled_while_its_file_is_opened_leaves_the_part_free(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    open_part = SessionFolder.open_part

    def slow_open_part(self: SessionFolder, number: int) -> int:
        entered.set()
        release.wait()
        return open_part(self, number)

    async with local_world(request, tmp_path) as world:
        session = await started(world, size=4)
        folder = SessionFolder(str(session_folder(tmp_path, session)), session)
        monkeypatch.setattr(SessionFolder, "open_part", slow_open_part)
        writing = asyncio.create_task(world.uploads.write_part(session, 1, chunks_of(b"abcd")))
        await eventually(entered.is_set)

        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        release.set()

        def part_is_free() -> bool:
            try:
                os.close(open_part(folder, 1))
            except Conflict:
                return False
            return True

        await eventually(part_is_free)
