"""Leftovers of uploads cut short by a crash: old part files on a local disk, old
incomplete multipart uploads in S3 (moto in server mode)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ClientFactory
from tests.integration.s3_support import USER_DATA_PREFIX
from tests.waiting import eventually
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.s3 import S3FileStorage
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import Settings

TWO_HOURS = 2 * 3600


def part_file(folder: Path, name: str, age_seconds: float = 0.0) -> Path:
    """A part file as an upload leaves it, last written `age_seconds` ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".upload-{name}.part"
    path.write_bytes(b"half an upload")
    written = time.time() - age_seconds
    os.utime(path, (written, written))
    return path


async def test_part_files_untouched_for_over_an_hour_are_removed_and_nothing_else(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "alice" / "data" / "exp1"
    orphan = part_file(folder, "orphan", age_seconds=TWO_HOURS)
    running = part_file(folder, "running", age_seconds=60)
    old_file = folder / "kept.upload-like.part"
    old_file.write_bytes(b"a user's file")
    os.utime(old_file, (time.time() - TWO_HOURS,) * 2)
    storage = await LocalFileStorage.create(tmp_path)

    removed = await storage.sweep_leftovers(datetime.now(UTC))

    assert removed == 1
    assert not orphan.exists()
    assert running.exists()
    assert old_file.exists()


async def test_orphaned_part_files_are_swept_at_start_up(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    orphan = part_file(
        Path(settings.storage.user_data_root_path) / "bob" / "data", "crash", TWO_HOURS
    )

    await aiohttp_client(create_app(settings))

    await eventually(lambda: not orphan.exists())


async def test_incomplete_multipart_uploads_older_than_a_day_below_the_prefix_are_aborted(
    s3_storage: S3FileStorage, s3_client: Any, s3_bucket: str
) -> None:
    mine = await s3_client.create_multipart_upload(
        Bucket=s3_bucket, Key=f"{USER_DATA_PREFIX}/alice/data/movie.tif"
    )
    foreign = await s3_client.create_multipart_upload(Bucket=s3_bucket, Key="other-app/big.bin")

    # The stand-in reports every upload started at one fixed moment: the sweeps are
    # timed relative to what it reports.
    listed = await s3_client.list_multipart_uploads(Bucket=s3_bucket)
    started = max(upload["Initiated"] for upload in listed["Uploads"])
    recent = await s3_storage.sweep_leftovers(started + timedelta(hours=23))
    later = await s3_storage.sweep_leftovers(started + timedelta(hours=25))

    listed = await s3_client.list_multipart_uploads(Bucket=s3_bucket)
    remaining = {upload["UploadId"] for upload in listed.get("Uploads", [])}
    assert (recent, later) == (0, 1)
    assert remaining == {foreign["UploadId"]}
    assert mine["UploadId"] not in remaining
