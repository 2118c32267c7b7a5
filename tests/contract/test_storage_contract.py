"""What every `FileStorage` backend promises, checked against each one in conftest."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from userfacing_api.domain.errors import AlreadyExists, InvalidInput, NotFound
from userfacing_api.domain.files import FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT, UserPath
from userfacing_api.ports.storage import FileStorage

MiB = 1024 * 1024
CONTENT = bytes(range(256)) * 1000  # 256 000 bytes: several chunks on every backend

ALICE = UserId("alice")
BOB = UserId("bob")
NOBODY = UserId("nobody")


class SourceFailed(Exception):
    """Raised by a chunk source standing in for a dropped upload."""


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing_after(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise SourceFailed("the client went away")


async def read_all(
    storage: FileStorage, user_id: UserId, path: UserPath, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in storage.read(user_id, path, start, end)])


async def tree(storage: FileStorage, user_id: UserId) -> dict[str, int | None]:
    """Every path of the user's tree with its size (None for folders)."""
    entries = await storage.list(user_id, UserPath(), recursive=True)
    return {entry.path: entry.size for entry in entries}


async def test_a_written_file_reads_back_with_its_metadata(storage: FileStorage) -> None:
    written = await storage.write(
        ALICE, UserPath("data/exp1/a.tif"), chunks_of(CONTENT[:1000], CONTENT[1000:])
    )

    stated = await storage.stat(ALICE, UserPath("data/exp1/a.tif"))

    assert stated == written
    assert written.path == "data/exp1/a.tif"
    assert written.type is FileType.FILE
    assert written.size == len(CONTENT)
    assert written.etag
    assert written.modified is not None
    assert written.modified.utcoffset() == timedelta(0)
    assert await read_all(storage, ALICE, UserPath("data/exp1/a.tif")) == CONTENT


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, None),
        (0, 1),
        (10, 20),
        (65_530, 65_542),
        (1, len(CONTENT) - 1),
        (200_000, None),
        (len(CONTENT) - 3, len(CONTENT) + 100),
        (len(CONTENT), None),
        (50, 50),
    ],
)
async def test_a_byte_range_reads_exactly_that_slice(
    storage: FileStorage, start: int, end: int | None
) -> None:
    await storage.write(ALICE, UserPath("data/a.bin"), chunks_of(CONTENT))

    assert await read_all(storage, ALICE, UserPath("data/a.bin"), start, end) == CONTENT[start:end]


async def test_reading_streams_the_file_in_several_non_empty_chunks(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.bin"), chunks_of(CONTENT))

    chunks = [chunk async for chunk in storage.read(ALICE, UserPath("data/a.bin"))]

    assert len(chunks) > 1
    assert all(chunks)
    assert b"".join(chunks) == CONTENT


async def test_a_negative_range_is_invalid(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.bin"), chunks_of(CONTENT))

    with pytest.raises(InvalidInput):
        await read_all(storage, ALICE, UserPath("data/a.bin"), -1)
    with pytest.raises(InvalidInput):
        await read_all(storage, ALICE, UserPath("data/a.bin"), 10, 5)


async def test_an_empty_file_can_be_written_and_read(storage: FileStorage) -> None:
    written = await storage.write(ALICE, UserPath("config/empty.yaml"), chunks_of())

    assert written.size == 0
    assert await read_all(storage, ALICE, UserPath("config/empty.yaml")) == b""


async def test_writing_again_replaces_the_content(storage: FileStorage) -> None:
    first = await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"first version"))

    second = await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"second"))

    assert second.size == 6
    assert second.etag != first.etag
    assert await read_all(storage, ALICE, UserPath("data/a.txt")) == b"second"
    assert await tree(storage, ALICE) == {"data": None, "data/a.txt": 6}


async def test_a_write_whose_source_fails_leaves_nothing_behind(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data"))

    with pytest.raises(SourceFailed):
        await storage.write(ALICE, UserPath("data/a.txt"), failing_after(b"half of ", b"the file"))

    assert await storage.stat(ALICE, UserPath("data/a.txt")) is None
    assert await tree(storage, ALICE) == {"data": None}


async def test_a_failed_overwrite_keeps_the_old_content(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"old content"))

    with pytest.raises(SourceFailed):
        await storage.write(ALICE, UserPath("data/a.txt"), failing_after(b"new ", b"content"))

    assert await read_all(storage, ALICE, UserPath("data/a.txt")) == b"old content"
    assert await tree(storage, ALICE) == {"data": None, "data/a.txt": 11}


async def test_a_cancelled_write_leaves_nothing_behind(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data"))
    first_chunk_taken = asyncio.Event()

    async def stalled_upload() -> AsyncIterator[bytes]:
        yield b"the first chunk"
        first_chunk_taken.set()
        await asyncio.Event().wait()
        yield b"never sent"

    upload = asyncio.create_task(storage.write(ALICE, UserPath("data/a.txt"), stalled_upload()))
    await asyncio.wait_for(first_chunk_taken.wait(), timeout=5)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload

    assert await storage.stat(ALICE, UserPath("data/a.txt")) is None
    assert await tree(storage, ALICE) == {"data": None}


async def test_writing_creates_the_parent_folders(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/exp1/run2/a.txt"), chunks_of(b"x"))

    for folder in ("data", "data/exp1", "data/exp1/run2"):
        info = await storage.stat(ALICE, UserPath(folder))
        assert info is not None
        assert info.type is FileType.DIRECTORY
        assert info.size is None


async def test_a_file_cannot_be_written_where_a_folder_is(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data/exp1"))

    with pytest.raises(AlreadyExists):
        await storage.write(ALICE, UserPath("data/exp1"), chunks_of(b"x"))

    info = await storage.stat(ALICE, UserPath("data/exp1"))
    assert info is not None
    assert info.is_dir


async def test_a_file_cannot_be_written_below_a_file(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"x"))

    with pytest.raises(AlreadyExists):
        await storage.write(ALICE, UserPath("data/a.txt/b.txt"), chunks_of(b"y"))

    assert await read_all(storage, ALICE, UserPath("data/a.txt")) == b"x"


async def test_the_root_cannot_be_written_as_a_file(storage: FileStorage) -> None:
    with pytest.raises(InvalidInput):
        await storage.write(ALICE, UserPath(""), chunks_of(b"x"))


async def populate(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/exp1/a.tif"), chunks_of(b"a" * 19))
    await storage.write(ALICE, UserPath("data/exp1/deep/b.tif"), chunks_of(b"b" * 3))
    await storage.write(ALICE, UserPath("data/notes.txt"), chunks_of(b"n"))
    await storage.make_folder(ALICE, UserPath("data/empty"))
    await storage.make_folder(ALICE, UserPath("config"))


async def test_listing_a_folder_shows_only_its_direct_entries(storage: FileStorage) -> None:
    await populate(storage)

    entries = await storage.list(ALICE, UserPath("data"), recursive=False)

    assert {(e.path, e.type, e.size) for e in entries} == {
        ("data/exp1", FileType.DIRECTORY, None),
        ("data/notes.txt", FileType.FILE, 1),
        ("data/empty", FileType.DIRECTORY, None),
    }


async def test_a_recursive_listing_shows_every_level(storage: FileStorage) -> None:
    await populate(storage)

    entries = await storage.list(ALICE, UserPath("data/exp1"), recursive=True)

    assert {(e.path, e.type, e.size) for e in entries} == {
        ("data/exp1/a.tif", FileType.FILE, 19),
        ("data/exp1/deep", FileType.DIRECTORY, None),
        ("data/exp1/deep/b.tif", FileType.FILE, 3),
    }


async def test_listing_the_root_shows_the_top_level_without_slashes(storage: FileStorage) -> None:
    await populate(storage)

    top = await storage.list(ALICE, UserPath(""), recursive=False)
    everything = await storage.list(ALICE, UserPath(""), recursive=True)

    assert sorted(entry.path for entry in top) == ["config", "data"]
    assert len(everything) == 8
    assert all(not e.path.startswith("/") and not e.path.endswith("/") for e in everything)
    assert all(e.etag and e.size is not None for e in everything if e.type is FileType.FILE)


async def test_a_fresh_users_root_is_an_empty_folder(storage: FileStorage) -> None:
    root = await storage.stat(NOBODY, UserPath(""))

    assert root is not None
    assert root.path == ""
    assert root.type is FileType.DIRECTORY
    assert await storage.list(NOBODY, UserPath(""), recursive=True) == []


async def test_listing_a_missing_folder_or_a_file_is_not_found(storage: FileStorage) -> None:
    await populate(storage)

    with pytest.raises(NotFound):
        await storage.list(ALICE, UserPath("data/missing"), recursive=False)
    with pytest.raises(NotFound):
        await storage.list(ALICE, UserPath("data/notes.txt"), recursive=True)


async def test_existence_is_decided_on_whole_path_segments(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/exp1/x"), chunks_of(b"x"))

    assert await storage.stat(ALICE, UserPath("data/exp")) is None
    assert await storage.stat(ALICE, UserPath("data/exp1/x/y")) is None
    assert await storage.stat(ALICE, UserPath("dat")) is None
    with pytest.raises(NotFound):
        await storage.list(ALICE, UserPath("data/exp"), recursive=True)


async def test_reading_a_missing_file_or_a_folder_is_not_found(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data/exp1"))

    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/missing.txt"))
    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/exp1"))


async def test_making_a_folder_creates_its_parents_and_can_be_repeated(
    storage: FileStorage,
) -> None:
    await storage.make_folder(ALICE, UserPath("data/a/b/c"))
    await storage.make_folder(ALICE, UserPath("data/a/b/c"))
    await storage.make_folder(ALICE, UserPath("data/a"))

    assert await tree(storage, ALICE) == {
        "data": None,
        "data/a": None,
        "data/a/b": None,
        "data/a/b/c": None,
    }


async def test_a_folder_cannot_be_made_where_a_file_is(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"x"))

    with pytest.raises(AlreadyExists):
        await storage.make_folder(ALICE, UserPath("data/a.txt"))
    with pytest.raises(AlreadyExists):
        await storage.make_folder(ALICE, UserPath("data/a.txt/sub"))

    assert await read_all(storage, ALICE, UserPath("data/a.txt")) == b"x"


async def test_moving_a_file_carries_its_content_and_creates_parents(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"content"))

    await storage.move(ALICE, UserPath("data/a.txt"), UserPath("data/renamed/b.txt"))

    assert await storage.stat(ALICE, UserPath("data/a.txt")) is None
    assert await read_all(storage, ALICE, UserPath("data/renamed/b.txt")) == b"content"
    assert await tree(storage, ALICE) == {
        "data": None,
        "data/renamed": None,
        "data/renamed/b.txt": 7,
    }


async def test_moving_an_empty_folder(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data/old"))

    await storage.move(ALICE, UserPath("data/old"), UserPath("config/new"))

    assert await tree(storage, ALICE) == {"data": None, "config": None, "config/new": None}


async def test_moving_something_missing_is_not_found(storage: FileStorage) -> None:
    with pytest.raises(NotFound):
        await storage.move(ALICE, UserPath("data/missing.txt"), UserPath("data/b.txt"))


async def test_moving_a_file_onto_an_existing_file_replaces_it(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"new"))
    await storage.write(ALICE, UserPath("data/b.txt"), chunks_of(b"older content"))

    await storage.move(ALICE, UserPath("data/a.txt"), UserPath("data/b.txt"))

    assert await storage.stat(ALICE, UserPath("data/a.txt")) is None
    assert await read_all(storage, ALICE, UserPath("data/b.txt")) == b"new"
    assert await tree(storage, ALICE) == {"data": None, "data/b.txt": 3}


async def test_moving_onto_a_folder_or_a_folder_onto_a_file_is_refused(
    storage: FileStorage,
) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"a"))
    await storage.make_folder(ALICE, UserPath("data/folder"))
    await storage.make_folder(ALICE, UserPath("data/empty"))

    with pytest.raises(AlreadyExists):
        await storage.move(ALICE, UserPath("data/a.txt"), UserPath("data/folder"))
    with pytest.raises(AlreadyExists):
        await storage.move(ALICE, UserPath("data/empty"), UserPath("data/a.txt"))

    assert await tree(storage, ALICE) == {
        "data": None,
        "data/a.txt": 1,
        "data/folder": None,
        "data/empty": None,
    }


async def test_moving_a_folder_into_itself_is_refused(storage: FileStorage) -> None:
    await storage.make_folder(ALICE, UserPath("data/a"))

    with pytest.raises(InvalidInput):
        await storage.move(ALICE, UserPath("data/a"), UserPath("data/a/b"))

    assert await tree(storage, ALICE) == {"data": None, "data/a": None}


async def test_the_root_is_neither_the_source_nor_the_target_of_a_move(
    storage: FileStorage,
) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"a"))

    with pytest.raises(InvalidInput):
        await storage.move(ALICE, ROOT, UserPath("data/moved"))
    with pytest.raises(InvalidInput):
        await storage.move(ALICE, UserPath("data/a.txt"), ROOT)

    assert await tree(storage, ALICE) == {"data": None, "data/a.txt": 1}


async def test_the_root_is_not_a_file_to_read(storage: FileStorage) -> None:
    await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"a"))

    with pytest.raises(NotFound):
        await read_all(storage, ALICE, ROOT)


async def test_deleting_a_file_removes_only_that_file(storage: FileStorage) -> None:
    await populate(storage)

    await storage.delete(ALICE, UserPath("data/exp1/a.tif"))

    assert await storage.stat(ALICE, UserPath("data/exp1/a.tif")) is None
    assert "data/exp1/deep/b.tif" in await tree(storage, ALICE)


async def test_deleting_a_folder_removes_everything_below_it(storage: FileStorage) -> None:
    await populate(storage)

    await storage.delete(ALICE, UserPath("data/exp1"))

    assert await tree(storage, ALICE) == {
        "config": None,
        "data": None,
        "data/empty": None,
        "data/notes.txt": 1,
    }


async def test_deleting_something_missing_is_fine(storage: FileStorage) -> None:
    await populate(storage)
    before = await tree(storage, ALICE)

    await storage.delete(ALICE, UserPath("data/missing"))
    await storage.delete(ALICE, UserPath("data/notes.txt/below-a-file"))
    await storage.delete(UserId("somebody-new"), UserPath("data"))

    assert await tree(storage, ALICE) == before


async def test_deleting_the_root_empties_the_tree_which_stays_a_folder(
    storage: FileStorage,
) -> None:
    await populate(storage)

    await storage.delete(ALICE, UserPath(""))

    assert await tree(storage, ALICE) == {}
    root = await storage.stat(ALICE, UserPath(""))
    assert root is not None
    assert root.is_dir


async def test_users_never_see_each_others_files(storage: FileStorage) -> None:
    await populate(storage)

    assert await tree(storage, BOB) == {}
    assert await storage.stat(BOB, UserPath("data/notes.txt")) is None
    with pytest.raises(NotFound):
        await read_all(storage, BOB, UserPath("data/notes.txt"))
    with pytest.raises(NotFound):
        await storage.list(BOB, UserPath("data"), recursive=True)
    with pytest.raises(NotFound):
        await storage.move(BOB, UserPath("data/notes.txt"), UserPath("data/mine.txt"))

    await storage.write(BOB, UserPath("data/notes.txt"), chunks_of(b"bob's notes"))
    await storage.delete(BOB, UserPath("data"))

    assert await read_all(storage, ALICE, UserPath("data/notes.txt")) == b"n"
    assert len(await tree(storage, ALICE)) == 8


async def test_a_large_streamed_write_reads_back_equal(storage: FileStorage) -> None:
    expected = hashlib.sha256()

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(20):
            chunk = os.urandom(MiB)
            expected.update(chunk)
            yield chunk

    written = await storage.write(ALICE, UserPath("data/big.bin"), upload())

    received = hashlib.sha256()
    async for chunk in storage.read(ALICE, UserPath("data/big.bin")):
        received.update(chunk)
    assert written.size == 20 * MiB
    assert received.hexdigest() == expected.hexdigest()


async def test_uris_are_distinct_per_user_and_path(storage: FileStorage) -> None:
    uris = {
        storage.uri(ALICE, UserPath("data/a.txt")),
        storage.uri(ALICE, UserPath("data/b.txt")),
        storage.uri(BOB, UserPath("data/a.txt")),
        storage.uri(ALICE, UserPath("data")),
    }

    assert len(uris) == 4
    assert all(uri.endswith(("/a.txt", "/b.txt", "/data")) for uri in uris)


async def test_a_fresh_storage_answers_ping(storage: FileStorage) -> None:
    await storage.ping()
