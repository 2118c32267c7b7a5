"""Making changes to a folder's entries reach the disk."""

from __future__ import annotations

import os


def sync_folder(folder: str) -> None:
    """Make a new or renamed entry of `folder` durable: the folder's entry table must
    reach the disk too, not only the file's bytes."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
