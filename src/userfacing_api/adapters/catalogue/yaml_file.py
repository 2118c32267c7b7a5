"""The application catalogue from a local YAML file, re-read when the file changes.

The file's modification time (with its size and inode) is checked at most once
per `check_interval` seconds, on the request that comes after it, so a request
never waits for more than one `stat` and, after an edit, one read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import aiofiles
import aiofiles.os
import yaml

from userfacing_api.domain.applications import Catalogue, InvalidCatalogue, parse_catalogue
from userfacing_api.ports.catalogue import CatalogueUnreadable

logger = logging.getLogger(__name__)

Signature = tuple[int, int, int]


class YamlFileCatalogue:
    def __init__(
        self,
        path: Path,
        catalogue: Catalogue,
        signature: Signature,
        *,
        check_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._catalogue = catalogue
        self._signature = signature
        self._check_interval = check_interval
        self._monotonic = monotonic
        self._checked_at = monotonic()
        self._reloading = False

    @classmethod
    async def load(
        cls,
        path: Path,
        *,
        check_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> YamlFileCatalogue:
        """Read the catalogue; `CatalogueUnreadable` or `InvalidCatalogue` if it cannot serve."""
        signature = await _signature(path)
        catalogue = await _read(path)
        return cls(path, catalogue, signature, check_interval=check_interval, monotonic=monotonic)

    async def current(self) -> Catalogue:
        now = self._monotonic()
        if now - self._checked_at >= self._check_interval and not self._reloading:
            self._checked_at = now
            self._reloading = True
            try:
                await self._reload_if_changed()
            finally:
                self._reloading = False
        return self._catalogue

    async def _reload_if_changed(self) -> None:
        try:
            signature = await _signature(self._path)
        except CatalogueUnreadable as err:
            if self._signature != _MISSING:
                logger.error("%s; keeping the last valid catalogue", err)
                self._signature = _MISSING
            return
        if signature == self._signature:
            return
        self._signature = signature
        try:
            self._catalogue = await _read(self._path)
        except (CatalogueUnreadable, InvalidCatalogue) as err:
            logger.error(
                "application catalogue %s not reloaded: %s; keeping the last valid one",
                self._path,
                err,
            )
            return
        logger.info("application catalogue reloaded from %s", self._path)


_MISSING: Signature = (-1, -1, -1)


async def _signature(path: Path) -> Signature:
    try:
        result = await aiofiles.os.stat(path)
    except OSError as err:
        raise CatalogueUnreadable(f"{path}: {err.strerror or err}") from err
    return (result.st_mtime_ns, result.st_size, result.st_ino)


async def _read(path: Path) -> Catalogue:
    try:
        async with aiofiles.open(path, encoding="utf-8") as handle:
            text = await handle.read()
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogueUnreadable(f"{path}: {_reason(err)}") from err
    try:
        document = await asyncio.to_thread(yaml.safe_load, text)
    except yaml.YAMLError as err:
        raise CatalogueUnreadable(f"{path}: not valid YAML: {_yaml_problem(err)}") from err
    return parse_catalogue(document)


def _reason(err: OSError | UnicodeDecodeError) -> str:
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return "not UTF-8 text"


def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
