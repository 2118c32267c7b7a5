"""The local identity provider's users and signing keys on either engine, through a `Session`."""

from __future__ import annotations

import json
from datetime import datetime

from userfacing_api.adapters.db.session import Dialect, Row, Session
from userfacing_api.domain.errors import AlreadyExists
from userfacing_api.ports.local_identity import SigningKeyStore, StoredUser, UserStore

# A taken username (or user id) changes no row rather than raising an error.
_INSERT_USER = (
    "INSERT INTO users (user_id, username, email, groups_json, password_hash, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
)
_SELECT_USER = (
    "SELECT user_id, username, email, groups_json, password_hash, created_at"
    " FROM users WHERE username = $1"
)
_SELECT_KEY = "SELECT private_pem FROM signing_keys WHERE kid = $1"
_INSERT_KEY = (
    "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (kid) DO NOTHING"
)


class SqlUserStore(UserStore):
    def __init__(self, session: Session, dialect: Dialect) -> None:
        self._session = session
        self._dialect = dialect

    async def add(self, user: StoredUser) -> None:
        added = await self._session.execute(
            _INSERT_USER,
            user.user_id,
            user.username,
            user.email,
            json.dumps(list(user.groups)),
            user.password_hash,
            user.created_at,
        )
        if not added:
            raise AlreadyExists(f"User {user.username!r} already exists")

    async def find(self, username: str) -> StoredUser | None:
        rows = await self._session.fetch(_SELECT_USER, username)
        return self._user(rows[0]) if rows else None

    def _user(self, row: Row) -> StoredUser:
        return StoredUser(
            user_id=str(row["user_id"]),
            username=str(row["username"]),
            email=str(row["email"]),
            groups=tuple(str(group) for group in json.loads(row["groups_json"])),
            password_hash=str(row["password_hash"]),
            created_at=self._dialect.read_datetime(row["created_at"]),
        )


class SqlSigningKeyStore(SigningKeyStore):
    def __init__(self, session: Session) -> None:
        self._session = session

    async def find(self, kid: str) -> str | None:
        rows = await self._session.fetch(_SELECT_KEY, kid)
        return str(rows[0]["private_pem"]) if rows else None

    async def add_if_absent(self, kid: str, private_pem: str, created_at: datetime) -> None:
        await self._session.execute(_INSERT_KEY, kid, private_pem, created_at)
