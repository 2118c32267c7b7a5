"""The local provider's users, in the `users` table of SQLite or PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from userfacing_api.adapters.db.database import Database, SqliteDatabase
from userfacing_api.domain.errors import AlreadyExists, Unavailable

_UNAVAILABLE = "The database cannot be reached"
_SQLITE_INSERT = (
    "INSERT INTO users (user_id, username, email, groups_json, password_hash, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_SQLITE_SELECT = (
    "SELECT user_id, username, email, groups_json, password_hash, created_at"
    " FROM users WHERE username = ?"
)
_POSTGRES_INSERT = (
    "INSERT INTO users (user_id, username, email, groups_json, password_hash, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
_POSTGRES_SELECT = (
    "SELECT user_id, username, email, groups_json, password_hash, created_at"
    " FROM users WHERE username = $1"
)


@dataclass(frozen=True)
class StoredUser:
    user_id: str
    username: str
    email: str
    groups: tuple[str, ...]
    password_hash: str
    created_at: datetime


class UserStore(Protocol):
    async def add(self, user: StoredUser) -> None:
        """Store a new user; `AlreadyExists` if the username is taken."""
        ...

    async def find(self, username: str) -> StoredUser | None: ...


def user_store_for(database: Database) -> UserStore:
    if isinstance(database, SqliteDatabase):
        return SqliteUserStore(database)
    return PostgresUserStore(database.pool)


class SqliteUserStore:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def add(self, user: StoredUser) -> None:
        try:
            await self._database.execute(
                _SQLITE_INSERT,
                (
                    user.user_id,
                    user.username,
                    user.email,
                    json.dumps(list(user.groups)),
                    user.password_hash,
                    user.created_at.isoformat(),
                ),
            )
        except sqlite3.IntegrityError as err:
            raise _taken(user.username) from err
        except sqlite3.OperationalError as err:
            raise Unavailable(_UNAVAILABLE) from err

    async def find(self, username: str) -> StoredUser | None:
        try:
            rows = await self._database.fetch(_SQLITE_SELECT, (username,))
        except sqlite3.OperationalError as err:
            raise Unavailable(_UNAVAILABLE) from err
        return _user(rows[0]) if rows else None


class PostgresUserStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, user: StoredUser) -> None:
        try:
            await self._pool.execute(
                _POSTGRES_INSERT,
                user.user_id,
                user.username,
                user.email,
                json.dumps(list(user.groups)),
                user.password_hash,
                user.created_at,
            )
        except asyncpg.UniqueViolationError as err:
            raise _taken(user.username) from err
        except (OSError, asyncpg.PostgresConnectionError) as err:
            raise Unavailable(_UNAVAILABLE) from err

    async def find(self, username: str) -> StoredUser | None:
        try:
            row = await self._pool.fetchrow(_POSTGRES_SELECT, username)
        except (OSError, asyncpg.PostgresConnectionError) as err:
            raise Unavailable(_UNAVAILABLE) from err
        return None if row is None else _user(row)


class _Row(Protocol):
    """A result row of either driver (`sqlite3.Row`, `asyncpg.Record`)."""

    def __getitem__(self, column: str) -> Any: ...


def _taken(username: str) -> AlreadyExists:
    return AlreadyExists(f"User {username!r} already exists")


def _user(row: _Row) -> StoredUser:
    created_at = row["created_at"]
    return StoredUser(
        user_id=str(row["user_id"]),
        username=str(row["username"]),
        email=str(row["email"]),
        groups=tuple(str(group) for group in json.loads(row["groups_json"])),
        password_hash=str(row["password_hash"]),
        created_at=(
            created_at if isinstance(created_at, datetime) else datetime.fromisoformat(created_at)
        ),
    )
