"""Where the application catalogue comes from (a local YAML file, an S3 object, ...)."""

from __future__ import annotations

from typing import Protocol

from userfacing_api.domain.applications import Catalogue


class CatalogueUnreadable(Exception):
    """The catalogue's source cannot be read or is not a well-formed document."""


class ApplicationCatalogue(Protocol):
    async def current(self) -> Catalogue:
        """The latest valid catalogue.

        An adapter re-reads its source when it has changed (checking at most
        about once per second) and keeps the last valid catalogue when the new
        one is unreadable or invalid.
        """
        ...
