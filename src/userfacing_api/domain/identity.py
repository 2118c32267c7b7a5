"""Who is calling, and the rule that only confirmed users may use the API."""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.domain.errors import Forbidden

USERS_GROUP = "users"


@dataclass(frozen=True)
class Principal:
    """A verified caller. `groups` is None when the token carried no groups claim."""

    user_id: str
    email: str | None
    groups: tuple[str, ...] | None


@dataclass(frozen=True)
class IssuedToken:
    id_token: str
    expires_in: int


def require_confirmed_user(principal: Principal) -> Principal:
    """Raise `Forbidden` unless the caller belongs to the `users` group."""
    if principal.groups is None or USERS_GROUP not in principal.groups:
        raise Forbidden("User is not confirmed: not a member of the 'users' group")
    return principal
