"""A full disk: the upload is refused with 507, its partial file is gone, the service serves on.

The first tests make the disk full by failing the storage's writes with `ENOSPC`
once a few bytes are in (they always run); the last fills a real, small tmpfs,
which needs the right to mount file systems.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiofiles.threadpool.binary import AsyncBufferedIOBase

from tests.conftest import ClientFactory
from tests.http.files_helpers import Client, upload, uploaded
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.bootstrap import create_app
from userfacing_api.domain.errors import StorageFull
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.settings import Settings, load_settings

ROOM_BYTES = 64 * 1024
BIG = b"x" * (4 * ROOM_BYTES)


class _FillingPart:
    """A part file that takes `room` bytes, then fails its writes as a full disk does."""

    def __init__(self, handle: AsyncBufferedIOBase, room: int) -> None:
        self._handle = handle
        self._room = room

    async def write(self, chunk: bytes) -> int:
        if len(chunk) > self._room:
            await self._handle.write(chunk[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(chunk)
        return await self._handle.write(chunk)

    async def flush(self) -> None:
        await self._handle.flush()

    def fileno(self) -> int:
        return self._handle.fileno()

    async def close(self) -> None:
        await self._handle.close()


class FullDiskStorage(LocalFileStorage):
    """The local storage on a disk with `ROOM_BYTES` free for each upload."""

    async def _open_part(self, temp: str, path: UserPath) -> AsyncBufferedIOBase:
        handle = await super()._open_part(temp, path)
        return _FillingPart(handle, ROOM_BYTES)  # type: ignore[return-value]


def files_below(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


async def chunks_of(data: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_write_that_fills_the_disk_raises_storage_full_and_leaves_no_part_file(
    tmp_path: Path,
) -> None:
    storage = await FullDiskStorage.create(tmp_path)

    with pytest.raises(StorageFull, match="full"):
        await storage.write(UserId("alice"), UserPath("data/big.bin"), chunks_of(BIG))

    assert files_below(tmp_path) == []


async def test_an_upload_on_a_full_disk_is_507_and_the_service_keeps_serving(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    root = Path(settings.storage.user_data_root_path)
    storage = await FullDiskStorage.create(root)
    client = await aiohttp_client(create_app(settings, storage=storage))
    alice = await _register(client)

    await _assert_full_then_serving(client, alice, root)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real file system of `ROOM_BYTES * 2`; skipped where mounting is not allowed."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={ROOM_BYTES * 2}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): "
            f"{mounted.stderr.strip()}; the ENOSPC tests above cover the same path"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


async def test_an_upload_filling_a_real_small_disk_is_507_and_the_service_keeps_serving(
    aiohttp_client: ClientFactory, environ: dict[str, str], small_tmpfs: Path
) -> None:
    root = small_tmpfs / "user_data"
    settings = load_settings({**environ, "USER_DATA_ROOT_PATH": str(root)})
    client = await aiohttp_client(create_app(settings))
    alice = await _register(client)

    await _assert_full_then_serving(client, alice, root)


async def _register(client: Client) -> dict[str, str]:
    form = {"username": "alice@example.org", "password": "Correct-horse-9"}
    assert (await client.post("/user", data=form)).status == 201
    issued = await client.post("/token", data=form)
    return {"Authorization": f"Bearer {(await issued.json())['id_token']}"}


async def _assert_full_then_serving(client: Client, alice: dict[str, str], root: Path) -> None:
    response = await upload(client, alice, "data/exp", "big.bin", BIG)

    assert response.status == 507
    assert "full" in (await response.json())["detail"]
    assert [path.name for path in files_below(root)] == []
    small = await uploaded(client, alice, "data/exp", "small.txt", b"still room for this")
    assert small["path"] == "data/exp/small.txt"
    listing = await client.get("/files/data/exp", headers=alice)
    assert [entry["path"] for entry in await listing.json()] == ["data/exp/small.txt"]
