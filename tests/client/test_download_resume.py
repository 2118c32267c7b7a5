"""Resuming an interrupted download, against the running service on local storage and on S3:
the bytes after the `.part` file when the file is unchanged, the whole new file when it
changed in between (`If-Range` with the version the `.part` bytes came from)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from decode_cloud import AsyncClient
from decode_cloud.downloads import partial_path, version_path
from decode_cloud.progress import Reporter, Transfer
from tests.client.cli import Cli, assert_ok
from tests.client.conftest import Deployment

SIZE = 12_000_000
"""Several of the client's 4 MiB write batches, so an interruption leaves a part file."""
REMOTE = "data/exp1/movie.tif"


class Interrupted(Exception):
    """Stands for Ctrl-C or a dropped connection after the first bytes were written."""


class _Interrupting(Transfer):
    def advance(self, size: int) -> None:
        raise Interrupted


@dataclass
class _Recording(Reporter):
    """Interrupts each transfer after its first batch when `interrupt`; records where
    each transfer started (the bytes already there)."""

    interrupt: bool = False
    started_at: list[int] = field(default_factory=list)

    def transfer(self, label: str, total: int | None, completed: int = 0) -> Transfer:
        self.started_at.append(completed)
        return _Interrupting() if self.interrupt else Transfer()


async def _download(cli: Cli, deployment: Deployment, target: Path, reporter: _Recording) -> None:
    async with AsyncClient(deployment.service.url, store=cli.store(), reporter=reporter) as client:
        await client.download(REMOTE, target)


async def _upload(cli: Cli, source: Path, content: bytes) -> None:
    await asyncio.to_thread(source.write_bytes, content)
    assert_ok(await cli.run("upload", str(source), "data/exp1", "-q"))


async def _interrupted_download(cli: Cli, deployment: Deployment, target: Path) -> int:
    """Start downloading `REMOTE` and stop after the first batch; the bytes left."""
    with pytest.raises(Interrupted):
        await _download(cli, deployment, target, _Recording(interrupt=True))
    left = partial_path(target).stat().st_size
    assert 0 < left < SIZE
    assert version_path(target).exists()
    return left


async def test_an_unchanged_file_continues_after_the_bytes_already_there(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    content = os.urandom(SIZE)
    await _upload(scientist, tmp_path / "movie.tif", content)
    target = tmp_path / "back" / "movie.tif"
    left = await _interrupted_download(scientist, deployment, target)

    resumed = _Recording()
    await _download(scientist, deployment, target, resumed)

    assert resumed.started_at == [left]
    assert target.read_bytes() == content
    assert not partial_path(target).exists()
    assert not version_path(target).exists()


async def test_a_file_changed_since_the_interruption_comes_whole_again(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE)
    await _upload(scientist, tmp_path / "movie.tif", old)
    target = tmp_path / "back" / "movie.tif"
    await _interrupted_download(scientist, deployment, target)
    await _upload(scientist, tmp_path / "movie.tif", new)  # same size, other bytes

    resumed = assert_ok(await scientist.run("download", REMOTE, str(target)))

    assert resumed.lines[-1] == f"1 file(s), {SIZE} bytes downloaded"
    assert target.read_bytes() == new
    assert not partial_path(target).exists()
    assert not version_path(target).exists()
