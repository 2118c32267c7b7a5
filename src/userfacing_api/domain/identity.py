"""Who is calling, how users are named, and the rule that only confirmed users may use the API."""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.domain.errors import Forbidden, InvalidInput
from userfacing_api.domain.paths import normalise_path

USERS_GROUP = "users"


class UserId(str):
    """The id of a user whose files or jobs are at stake; `UserId(raw)` raises `InvalidInput`.

    It names the top folder of the user's tree, so it must be one plain path segment;
    names starting with a dot are left to the service's own folders (upload sessions).
    """

    __slots__ = ()

    def __new__(cls, raw: str) -> UserId:
        if not raw or "/" in raw or raw.startswith(".") or normalise_path(raw) != raw:
            raise InvalidInput("User id cannot name a folder")
        return str.__new__(cls, raw)


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
