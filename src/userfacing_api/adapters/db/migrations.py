"""Versioned SQL migrations shipped with the package, written once for both engines.

Files are named `NNNN_description.sql`; each is applied once, in order, inside a
transaction together with the row recording it in `schema_migrations`. Where the
engines' column types differ, a file names them in braces (`{timestamp}`) and
each engine fills in its own (`COLUMN_TYPES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

Engine = Literal["sqlite", "postgres"]

COLUMN_TYPES: dict[Engine, dict[str, str]] = {
    "sqlite": {
        # ISO 8601 text in UTC with microseconds, so text order is time order.
        "timestamp": "TEXT",
        "json": "TEXT",
        "job_id": "INTEGER",
        "new_id": "PRIMARY KEY AUTOINCREMENT",
        # Every SQLite index ends with the rowid, which `id` is, by itself.
        "index_id": "",
    },
    "postgres": {
        "timestamp": "TIMESTAMPTZ",
        "json": "JSONB",
        "job_id": "BIGINT",
        "new_id": "GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "index_id": ", id",
    },
}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(engine: Engine) -> list[Migration]:
    """The engine's migrations in order of version."""
    found = []
    for entry in (resources.files("userfacing_api.adapters.db") / "migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            sql = entry.read_text()
            for name, column_type in COLUMN_TYPES[engine].items():
                sql = sql.replace("{" + name + "}", column_type)
            found.append(Migration(int(number), rest.removesuffix(".sql"), sql))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found
