"""Preconditions every file storage enforces alike, whatever its medium.

The use cases decide what a user may do; these rules keep a storage's own
promises (see `ports.storage`) when it is called directly, so that the local
disk and the bucket refuse the same calls with the same errors.
"""

from __future__ import annotations

from userfacing_api.domain.errors import AlreadyExists, InvalidInput, NotFound
from userfacing_api.domain.files import FileType
from userfacing_api.domain.paths import UserPath


def check_write(path: UserPath) -> None:
    """A file can be written anywhere but over the root folder."""
    if path.is_root:
        raise InvalidInput("The root folder cannot be written as a file")


def check_read(path: UserPath, start: int, end: int | None) -> None:
    """A read names a file, never the root folder, and a range that runs forwards."""
    if start < 0 or (end is not None and end < start):
        raise InvalidInput(f"Invalid byte range {start}-{end}")
    if path.is_root:
        raise NotFound("The root folder is not a file")


def check_move(source: UserPath, target: UserPath) -> None:
    """Neither end of a move is the root, and nothing moves into itself."""
    if source.is_root or target.is_root:
        raise InvalidInput("The root folder cannot be moved")
    if source.contains(target):
        raise InvalidInput(f"{source!r} cannot be moved into itself")


def check_replace(target: UserPath, moving_folder: bool, existing: FileType | None) -> None:
    """Only a file replaces a file: a folder at `target`, or anything there when a folder
    moves, stays where it is (`AlreadyExists`)."""
    if existing is not None and (moving_folder or existing is FileType.DIRECTORY):
        raise AlreadyExists(f"{target!r} already exists")
