"""What the local identity provider keeps in the service's database: users and its signing key."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoredUser:
    user_id: str
    username: str
    email: str
    groups: tuple[str, ...]
    password_hash: str
    created_at: datetime


class UserStore(ABC):
    """The local users; failures raise `DatabaseUnavailable`."""

    @abstractmethod
    async def add(self, user: StoredUser) -> None:
        """Store a new user; `AlreadyExists` if the username is taken."""

    @abstractmethod
    async def find(self, username: str) -> StoredUser | None: ...


class SigningKeyStore(ABC):
    """Private keys (PEM) under their key ids; failures raise `DatabaseUnavailable`."""

    @abstractmethod
    async def find(self, kid: str) -> str | None: ...

    @abstractmethod
    async def add_if_absent(self, kid: str, private_pem: str, created_at: datetime) -> None:
        """Store the key unless one is already stored under `kid` (whoever comes first wins)."""
