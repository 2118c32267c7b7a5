"""The database a jobs run uses: a SQLite file, or a PostgreSQL database made for the run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.server import sqlite_url


@asynccontextmanager
async def database_url(engine: str, workdir: Path, maintenance_dsn: str) -> AsyncIterator[str]:
    if engine == "sqlite":
        yield sqlite_url(workdir)
        return
    async with temporary_postgres_database(maintenance_dsn) as url:
        yield url


@asynccontextmanager
async def temporary_postgres_database(maintenance_dsn: str) -> AsyncIterator[str]:
    """Create a uniquely named database, yield its URL, drop it (and its sessions) on exit."""
    name = f"userfacing_bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(maintenance_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield urlunsplit(urlsplit(maintenance_dsn)._replace(path=f"/{name}"))
    finally:
        connection = await asyncpg.connect(maintenance_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
