"""Versioned SQL migrations shipped with the package, one folder per engine.

Files are named `NNNN_description.sql`; each is applied once, in order, inside a
transaction together with the row recording it in `schema_migrations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(engine: Literal["sqlite", "postgres"]) -> list[Migration]:
    folder = resources.files("userfacing_api.adapters.db") / "migrations" / engine
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions for {engine}: {versions}")
    return found
