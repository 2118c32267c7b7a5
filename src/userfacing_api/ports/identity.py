"""Verifying callers' tokens and, in development deployments, managing users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from userfacing_api.domain.identity import IssuedToken, Principal


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """Return the caller of a valid id token; raise `Unauthenticated` otherwise."""
        ...


class IdentityProvider(Protocol):
    """User management behind `POST /user`, `/token` and `/login` (only with AUTH=1)."""

    async def register(self, username: str, password: str, groups: Sequence[str]) -> Principal:
        """Create a user; `AlreadyExists` if taken, `BadRequest` if the password is rejected."""
        ...

    async def issue_token(self, username: str, password: str) -> IssuedToken:
        """An id token; `NotFound` for an unknown user, `BadRequest` for a wrong password."""
        ...
