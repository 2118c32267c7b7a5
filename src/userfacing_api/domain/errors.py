"""Every error the domain raises derives from `DomainError`.

The HTTP adapter maps each subclass to one status code in a single place; the
`detail` text is what the client sees, so it never holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

Field = tuple[str | int, ...]


class DomainError(Exception):
    """Base of every expected, client-visible failure."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing asked for does not exist (or belongs to someone else)."""


class AlreadyExists(DomainError):
    """A unique name is taken."""


class Conflict(DomainError):
    """The resource is in a state that does not allow the operation (409)."""


class LimitReached(DomainError):
    """The caller has used up a quota; retrying later may succeed (429)."""


class InvalidInput(DomainError):
    """The request is well-formed but its values are not acceptable (422).

    `field` names the offending value as the use case received it: an argument
    name followed by keys and indexes inside it (`("priority",)`,
    `("attributes", "env_vars", "DEBUG")`). The HTTP adapter turns it into the
    place the value came from in the request. Empty when no single value is at fault.
    """

    def __init__(self, detail: str, field: Field = ()) -> None:
        super().__init__(detail)
        self.field = field


@contextmanager
def invalid_input_about(*field: str | int) -> Iterator[None]:
    """Attribute an `InvalidInput` that names no field to `field`."""
    try:
        yield
    except InvalidInput as err:
        if err.field:
            raise
        raise InvalidInput(err.detail, field) from None


class PreconditionFailed(DomainError):
    """A condition the client set on the request does not hold (412)."""


class BadRequest(DomainError):
    """The request refers to something that makes it impossible to carry out (400)."""


class TooLarge(DomainError):
    """The request would store more than is allowed in one file (413)."""


class Incomplete(DomainError):
    """Something the operation needs is not there yet, e.g. parts of an upload (409)."""


class NotAllowed(DomainError):
    """The operation is not permitted on this resource (405)."""


class Unauthenticated(DomainError):
    """No valid identity was presented (401)."""


class Forbidden(DomainError):
    """The identity is valid but may not do this (403)."""


class UpstreamRejected(DomainError):
    """A service this one depends on refused the request (502)."""


class StorageFull(DomainError):
    """The storage has no room left for what is being written (507); retrying will not help."""


class Unavailable(DomainError):
    """A service this one depends on cannot be reached right now (503)."""
