"""Marking handlers that need no token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

_ATTRIBUTE = "__userfacing_public__"


def public(handler: F) -> F:
    """Let requests reach `handler` without an `Authorization` header."""
    setattr(handler, _ATTRIBUTE, True)
    return handler


def is_public(handler: object) -> bool:
    return bool(getattr(handler, _ATTRIBUTE, False))
