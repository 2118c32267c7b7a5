"""A catalogue kept in step with a source that may change while the service runs.

Every source (a local file, an S3 object) is handled alike: each request checks
the source's version (one `stat` or `HeadObject`) and reads it again only when
it has changed, so an edit is visible to the very next request, as with the
original service, which read the file on every request. Requests arriving
during a check share the next one rather than each sending their own.
`check_interval` (default 0) lets a deployment check less often. A source that
cannot be read, is not YAML or holds an invalid catalogue is reported in the
log, and the last valid catalogue stays.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, Self

import yaml

from userfacing_api.domain.applications import Catalogue, InvalidCatalogue, parse_catalogue
from userfacing_api.ports.catalogue import CatalogueUnreadable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    text: str
    version: Hashable
    """What changes whenever the text does: a modification time, an ETag, ..."""


class CatalogueSource(Protocol):
    @property
    def name(self) -> str:
        """The path or URI of the source, as messages show it."""
        ...

    async def version(self) -> Hashable:
        """The source's current version, found cheaply; `CatalogueUnreadable` if it cannot be."""
        ...

    async def read(self) -> Document:
        """The source's text and its version; `CatalogueUnreadable` if it cannot be read."""
        ...


class ReloadingCatalogue:
    """The application catalogue port on any source."""

    def __init__(
        self,
        source: CatalogueSource,
        catalogue: Catalogue,
        version: Hashable,
        *,
        check_interval: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._catalogue = catalogue
        self._version = version
        self._check_interval = check_interval
        self._monotonic = monotonic
        self._checked_at = monotonic()
        self._checking = asyncio.Lock()
        self._checks_started = 0
        self._on_reload: Callable[[bool], None] = _ignore

    def report_reloads_to(self, on_reload: Callable[[bool], None]) -> None:
        """Call `on_reload(succeeded)` after each attempt to reload a changed catalogue."""
        self._on_reload = on_reload

    @classmethod
    async def from_source(
        cls,
        source: CatalogueSource,
        *,
        check_interval: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Self:
        """Read the catalogue; `CatalogueUnreadable` or `InvalidCatalogue` if it cannot serve."""
        document = await source.read()
        catalogue = await parse_yaml_catalogue(document.text, source.name)
        return cls(
            source,
            catalogue,
            document.version,
            check_interval=check_interval,
            monotonic=monotonic,
        )

    async def current(self) -> Catalogue:
        """The catalogue as of a check begun after this call (or within the interval)."""
        checks_seen = self._checks_started
        async with self._checking:
            began_since = self._checks_started != checks_seen
            due = self._monotonic() - self._checked_at >= self._check_interval
            if due and not began_since:
                self._checks_started += 1
                self._checked_at = self._monotonic()
                await self._reload_if_changed()
        return self._catalogue

    async def _reload_if_changed(self) -> None:
        try:
            version = await self._source.version()
        except CatalogueUnreadable as err:
            if self._version is not _UNREADABLE:
                logger.error("%s; keeping the last valid catalogue", err)
                self._version = _UNREADABLE
            return
        if version == self._version:
            return
        self._version = version
        try:
            document = await self._source.read()
            self._version = document.version
            self._catalogue = await parse_yaml_catalogue(document.text, self._source.name)
        except CatalogueUnreadable as err:
            logger.error("application catalogue not reloaded: %s; keeping the last valid one", err)
            self._on_reload(False)
            return
        except InvalidCatalogue as err:
            logger.error(
                "application catalogue not reloaded: %s: %s; keeping the last valid one",
                self._source.name,
                err,
            )
            self._on_reload(False)
            return
        logger.info("application catalogue reloaded from %s", self._source.name)
        self._on_reload(True)


def _ignore(succeeded: bool) -> None:
    """Reloads nobody watches."""


_UNREADABLE: Hashable = object()
"""The version of a source that could not be checked: any version read later differs."""


async def parse_yaml_catalogue(text: str, name: str) -> Catalogue:
    """The catalogue in a YAML text read from `name`; `CatalogueUnreadable` if not YAML."""
    try:
        document = await asyncio.to_thread(yaml.safe_load, text)
    except yaml.YAMLError as err:
        raise CatalogueUnreadable(f"{name}: not valid YAML: {_yaml_problem(err)}") from err
    return parse_catalogue(document)


def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
