"""The local disk adapter keeps every operation inside the user's folder."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.domain.errors import InvalidInput, NotFound
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.storage import StorageUnavailable

ALICE = UserId("alice")
MALLORY = UserId("mallory")


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(storage: LocalFileStorage, user_id: UserId, path: UserPath) -> bytes:
    return b"".join([chunk async for chunk in storage.read(user_id, path)])


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below `folder` with its content (None for folders), links not followed."""
    found: dict[str, bytes | None] = {}
    for directory, folders, files in os.walk(folder):
        for name in folders:
            found[os.path.relpath(os.path.join(directory, name), folder)] = None
        for name in files:
            path = Path(directory, name)
            found[str(path.relative_to(folder))] = None if path.is_symlink() else path.read_bytes()
    return found


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Alice's tree holds `data/own.txt` and two links out of it; bob has a file too."""
    root = tmp_path / "user_data"
    (root / "alice" / "data").mkdir(parents=True)
    (root / "alice" / "data" / "own.txt").write_bytes(b"alice's own")
    (root / "alice" / "data" / "evil_dir").symlink_to(tmp_path / "outside")
    (root / "alice" / "data" / "evil_file").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "bob" / "data").mkdir(parents=True)
    (root / "bob" / "data" / "b.txt").write_bytes(b"bob's")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    return outside


@pytest.fixture
async def storage(root: Path, outside: Path) -> LocalFileStorage:
    return await LocalFileStorage.create(root)


async def test_a_link_to_a_folder_outside_is_invisible(storage: LocalFileStorage) -> None:
    assert await storage.stat(ALICE, UserPath("data/evil_dir")) is None
    assert await storage.stat(ALICE, UserPath("data/evil_dir/secret.txt")) is None
    with pytest.raises(NotFound):
        await storage.list(ALICE, UserPath("data/evil_dir"), recursive=False)
    listed = await storage.list(ALICE, UserPath(""), recursive=True)
    assert {entry.path for entry in listed} == {"data", "data/own.txt"}


async def test_a_link_to_a_file_outside_cannot_be_read(storage: LocalFileStorage) -> None:
    assert await storage.stat(ALICE, UserPath("data/evil_file")) is None
    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/evil_file"))
    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/evil_dir/secret.txt"))


async def test_writing_through_a_link_never_reaches_outside(
    storage: LocalFileStorage, outside: Path
) -> None:
    with pytest.raises(InvalidInput):
        await storage.write(ALICE, UserPath("data/evil_dir/new.txt"), chunks_of(b"planted"))
    with pytest.raises(InvalidInput):
        await storage.write(ALICE, UserPath("data/evil_file"), chunks_of(b"overwritten"))
    with pytest.raises(InvalidInput):
        await storage.make_folder(ALICE, UserPath("data/evil_dir/sub"))

    assert snapshot(outside) == {"secret.txt": b"secret"}


async def test_deleting_a_link_removes_the_link_and_never_its_target(
    storage: LocalFileStorage, root: Path, outside: Path
) -> None:
    await storage.delete(ALICE, UserPath("data/evil_dir/secret.txt"))
    await storage.delete(ALICE, UserPath("data/evil_file"))

    assert not (root / "alice" / "data" / "evil_file").is_symlink()
    assert snapshot(outside) == {"secret.txt": b"secret"}

    await storage.delete(ALICE, UserPath("data"))

    assert not (root / "alice" / "data").exists()
    assert snapshot(outside) == {"secret.txt": b"secret"}


async def test_moving_through_a_link_is_refused(
    storage: LocalFileStorage, root: Path, outside: Path
) -> None:
    with pytest.raises(NotFound):
        await storage.move(ALICE, UserPath("data/evil_dir/secret.txt"), UserPath("data/stolen.txt"))
    with pytest.raises(NotFound):
        await storage.move(ALICE, UserPath("data/evil_file"), UserPath("data/stolen.txt"))
    with pytest.raises(InvalidInput):
        await storage.move(ALICE, UserPath("data/own.txt"), UserPath("data/evil_dir/own.txt"))

    assert snapshot(outside) == {"secret.txt": b"secret"}
    assert (root / "alice" / "data" / "own.txt").read_bytes() == b"alice's own"


async def test_a_link_into_another_users_tree_is_refused(
    storage: LocalFileStorage, root: Path
) -> None:
    (root / "alice" / "data" / "bob").symlink_to(Path("..", "..", "bob"))

    assert await storage.stat(ALICE, UserPath("data/bob")) is None
    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/bob/data/b.txt"))
    with pytest.raises(InvalidInput):
        await storage.write(ALICE, UserPath("data/bob/data/b.txt"), chunks_of(b"overwritten"))
    assert (root / "bob" / "data" / "b.txt").read_bytes() == b"bob's"


async def test_a_user_folder_that_is_a_link_is_refused(
    storage: LocalFileStorage, root: Path, outside: Path
) -> None:
    (root / "mallory").symlink_to(outside)

    assert await storage.stat(MALLORY, UserPath("secret.txt")) is None
    with pytest.raises(NotFound):
        await read_all(storage, MALLORY, UserPath("secret.txt"))
    with pytest.raises(NotFound):
        await storage.list(MALLORY, UserPath(""), recursive=True)
    with pytest.raises(InvalidInput):
        await storage.write(MALLORY, UserPath("new.txt"), chunks_of(b"planted"))
    assert snapshot(outside) == {"secret.txt": b"secret"}


async def test_a_link_within_the_tree_is_shown_as_what_it_points_to(
    storage: LocalFileStorage, root: Path
) -> None:
    (root / "alice" / "data" / "alias.txt").symlink_to("own.txt")

    info = await storage.stat(ALICE, UserPath("data/alias.txt"))
    listed = await storage.list(ALICE, UserPath("data"), recursive=False)

    assert info is not None
    assert info.size == len(b"alice's own")
    assert info in listed
    assert await read_all(storage, ALICE, UserPath("data/alias.txt")) == b"alice's own"


async def test_a_linked_folder_within_the_tree_is_listed_but_not_descended(
    storage: LocalFileStorage, root: Path
) -> None:
    (root / "alice" / "data" / "loop").symlink_to(".")

    listed = await storage.list(ALICE, UserPath(""), recursive=True)

    assert {(entry.path, entry.is_dir) for entry in listed} == {
        ("data", True),
        ("data/own.txt", False),
        ("data/loop", True),
    }


async def test_special_files_are_not_listed(storage: LocalFileStorage, root: Path) -> None:
    os.mkfifo(root / "alice" / "data" / "pipe")

    listed = await storage.list(ALICE, UserPath("data"), recursive=False)

    assert [entry.path for entry in listed] == ["data/own.txt"]
    assert await storage.stat(ALICE, UserPath("data/pipe")) is None


async def test_temporary_upload_files_are_never_shown(
    storage: LocalFileStorage, root: Path
) -> None:
    (root / "alice" / "data" / ".upload-abc.part").write_bytes(b"half")

    listed = await storage.list(ALICE, UserPath("data"), recursive=False)

    assert [entry.path for entry in listed] == ["data/own.txt"]
    assert await storage.stat(ALICE, UserPath("data/.upload-abc.part")) is None
    with pytest.raises(NotFound):
        await read_all(storage, ALICE, UserPath("data/.upload-abc.part"))
    with pytest.raises(InvalidInput):
        await storage.write(ALICE, UserPath("data/.upload-abc.part"), chunks_of(b"x"))


async def test_an_upload_in_progress_is_hidden_and_its_temporary_file_goes_away(
    storage: LocalFileStorage, root: Path
) -> None:
    first_chunk_taken = asyncio.Event()
    release = asyncio.Event()

    async def slow_upload() -> AsyncIterator[bytes]:
        yield b"first "
        first_chunk_taken.set()
        await release.wait()
        yield b"second"

    upload = asyncio.create_task(storage.write(ALICE, UserPath("data/new.txt"), slow_upload()))
    await asyncio.wait_for(first_chunk_taken.wait(), timeout=5)

    on_disk = sorted(os.listdir(root / "alice" / "data"))
    listed = await storage.list(ALICE, UserPath("data"), recursive=False)
    release.set()
    await asyncio.wait_for(upload, timeout=5)

    assert len(on_disk) == 4
    assert [name for name in on_disk if name.startswith(".upload-")]
    assert [entry.path for entry in listed] == ["data/own.txt"]
    assert sorted(os.listdir(root / "alice" / "data")) == [
        "evil_dir",
        "evil_file",
        "new.txt",
        "own.txt",
    ]
    assert (root / "alice" / "data" / "new.txt").read_bytes() == b"first second"


async def test_a_failed_upload_leaves_no_temporary_file_on_disk(
    storage: LocalFileStorage, root: Path
) -> None:
    async def broken_upload() -> AsyncIterator[bytes]:
        yield b"half"
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await storage.write(ALICE, UserPath("data/new.txt"), broken_upload())

    assert sorted(os.listdir(root / "alice" / "data")) == ["evil_dir", "evil_file", "own.txt"]


async def test_a_cancelled_upload_leaves_no_temporary_file_on_disk(
    storage: LocalFileStorage, root: Path
) -> None:
    first_chunk_taken = asyncio.Event()

    async def stalled_upload() -> AsyncIterator[bytes]:
        yield b"half"
        first_chunk_taken.set()
        await asyncio.Event().wait()
        yield b"never sent"

    upload = asyncio.create_task(storage.write(ALICE, UserPath("data/new.txt"), stalled_upload()))
    await asyncio.wait_for(first_chunk_taken.wait(), timeout=5)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload

    assert sorted(os.listdir(root / "alice" / "data")) == ["evil_dir", "evil_file", "own.txt"]


async def test_reads_come_in_chunks_of_the_configured_size(root: Path, outside: Path) -> None:
    storage = LocalFileStorage(root, chunk_size=4)
    await storage.write(ALICE, UserPath("data/ten.txt"), chunks_of(b"0123456789"))

    whole = [chunk async for chunk in storage.read(ALICE, UserPath("data/ten.txt"))]
    ranged = [chunk async for chunk in storage.read(ALICE, UserPath("data/ten.txt"), 1, 7)]

    assert whole == [b"0123", b"4567", b"89"]
    assert ranged == [b"1234", b"56"]


def test_the_uri_is_an_absolute_normalised_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = LocalFileStorage(Path("var/../user_data/"))

    assert storage.uri(ALICE, UserPath("data/exp1/a.tif")) == str(
        tmp_path / "user_data" / "alice" / "data" / "exp1" / "a.tif"
    )
    assert storage.uri(ALICE, UserPath("")) == str(tmp_path / "user_data" / "alice")


def test_a_uri_leading_out_of_the_tree_is_refused_before_the_storage(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)

    with pytest.raises(InvalidInput):
        storage.uri(ALICE, UserPath("data/../../bob"))
    with pytest.raises(InvalidInput):
        storage.uri(UserId(".."), UserPath("bob"))


async def test_create_makes_the_root_and_ping_then_succeeds(tmp_path: Path) -> None:
    storage = await LocalFileStorage.create(tmp_path / "new" / "root")

    await storage.ping()

    assert (tmp_path / "new" / "root").is_dir()


async def test_ping_fails_when_the_root_is_missing(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "missing")

    with pytest.raises(StorageUnavailable):
        await storage.ping()


async def test_disk_failures_become_storage_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_bytes(b"")
    storage = LocalFileStorage(tmp_path / "not-a-folder")

    with pytest.raises(StorageUnavailable):
        await storage.ping()
    with pytest.raises(StorageUnavailable):
        await storage.write(ALICE, UserPath("data/a.txt"), chunks_of(b"x"))
    with pytest.raises(StorageUnavailable):
        await storage.make_folder(ALICE, UserPath("data"))
    with pytest.raises(StorageUnavailable):
        await LocalFileStorage.create(tmp_path / "not-a-folder" / "root")


async def test_a_root_reached_through_a_link_keeps_each_user_in_their_tree(
    root: Path, outside: Path, tmp_path: Path
) -> None:
    (tmp_path / "root-link").symlink_to(root)
    storage = await LocalFileStorage.create(tmp_path / "root-link")

    listed = await storage.list(ALICE, UserPath(""), recursive=True)

    assert {entry.path for entry in listed} == {"data", "data/own.txt"}
    assert await read_all(storage, ALICE, UserPath("data/own.txt")) == b"alice's own"
    assert await storage.stat(ALICE, UserPath("data/evil_dir/secret.txt")) is None
    with pytest.raises(NotFound):
        await storage.list(ALICE, UserPath("data/evil_dir"), recursive=False)


async def test_a_folder_reached_through_a_link_within_the_tree_is_listed_under_that_path(
    storage: LocalFileStorage, root: Path
) -> None:
    (root / "alice" / "data" / "exp1").mkdir()
    (root / "alice" / "data" / "exp1" / "a.tif").write_bytes(b"tif")
    (root / "alice" / "latest").symlink_to(Path("data", "exp1"))

    folder = await storage.stat(ALICE, UserPath("latest"))
    listed = await storage.list(ALICE, UserPath("latest"), recursive=False)

    assert folder is not None
    assert folder.is_dir
    assert [(entry.path, entry.size) for entry in listed] == [("latest/a.tif", 3)]
