"""The application catalogue from a local YAML file, re-read when the file changes.

The file's version is its modification time with its size and inode, so a
check costs one `stat`; see `reloading` for when checks happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import aiofiles
import aiofiles.os

from userfacing_api.adapters.catalogue.reloading import Document, ReloadingCatalogue
from userfacing_api.ports.catalogue import CatalogueUnreadable

FILE_CHECK_INTERVAL = 0.0
"""Seconds between two checks of the file: by default every request checks (one `stat`)."""

Version = tuple[int, int, int]


class YamlFileCatalogue(ReloadingCatalogue):
    """The catalogue port on a local YAML file."""

    @classmethod
    async def load(
        cls,
        path: Path,
        *,
        check_interval: float = FILE_CHECK_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> YamlFileCatalogue:
        """Read the catalogue; `CatalogueUnreadable` or `InvalidCatalogue` if it cannot serve."""
        return await cls.from_source(
            YamlFile(path), check_interval=check_interval, monotonic=monotonic
        )


class YamlFile:
    """A catalogue source on the local file system."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def name(self) -> str:
        return str(self._path)

    async def version(self) -> Version:
        try:
            result = await aiofiles.os.stat(self._path)
        except OSError as err:
            raise CatalogueUnreadable(f"{self._path}: {err.strerror or err}") from err
        return (result.st_mtime_ns, result.st_size, result.st_ino)

    async def read(self) -> Document:
        version = await self.version()
        try:
            async with aiofiles.open(self._path, encoding="utf-8") as handle:
                text = await handle.read()
        except (OSError, UnicodeDecodeError) as err:
            raise CatalogueUnreadable(f"{self._path}: {_reason(err)}") from err
        return Document(text=text, version=version)


def _reason(err: OSError | UnicodeDecodeError) -> str:
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return "not UTF-8 text"
