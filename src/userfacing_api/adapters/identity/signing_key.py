"""The local provider's RSA signing key, generated once and kept in `signing_keys`.

Keeping it in the database lets tokens survive restarts and lets several
instances sharing one database verify each other's tokens. The key lives under
one fixed key id: whoever inserts first wins, and everyone reads back the row
that won, so instances racing at start-up still end up with the same key.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from userfacing_api.adapters.db.database import Database, SqliteDatabase
from userfacing_api.domain.errors import Unavailable
from userfacing_api.ports.clock import Clock

LOCAL_KID = "userfacing-local-1"

_KEY_BITS = 2048
_UNAVAILABLE = "The database cannot be reached"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


async def ensure_signing_key(database: Database, clock: Clock) -> SigningKey:
    """The persisted signing key, created on first use."""
    stored = await _read(database)
    if stored is None:
        pem = await asyncio.get_running_loop().run_in_executor(None, generate_private_pem)
        await _insert_if_absent(database, pem, clock.now())
        stored = await _read(database)
    if stored is None:
        raise RuntimeError("the signing key vanished right after it was stored")
    return SigningKey(LOCAL_KID, stored)


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


async def _read(database: Database) -> str | None:
    try:
        if isinstance(database, SqliteDatabase):
            rows = await database.fetch(
                "SELECT private_pem FROM signing_keys WHERE kid = ?", (LOCAL_KID,)
            )
            return str(rows[0][0]) if rows else None
        value = await database.pool.fetchval(
            "SELECT private_pem FROM signing_keys WHERE kid = $1", LOCAL_KID
        )
        return None if value is None else str(value)
    except (OSError, sqlite3.OperationalError, asyncpg.PostgresConnectionError) as err:
        raise Unavailable(_UNAVAILABLE) from err


async def _insert_if_absent(database: Database, pem: str, created_at: datetime) -> None:
    try:
        if isinstance(database, SqliteDatabase):
            await database.execute(
                "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (kid) DO NOTHING",
                (LOCAL_KID, pem, created_at.isoformat()),
            )
            return
        await database.pool.execute(
            "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (kid) DO NOTHING",
            LOCAL_KID,
            pem,
            created_at,
        )
    except (OSError, sqlite3.OperationalError, asyncpg.PostgresConnectionError) as err:
        raise Unavailable(_UNAVAILABLE) from err
