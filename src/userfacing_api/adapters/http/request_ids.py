"""Ids for requests that come without one of their own."""

from __future__ import annotations

import itertools
import os
import secrets

_prefix = secrets.token_hex(8)
_numbers = itertools.count(1)


def new_request_id() -> str:
    """32 hex digits, never the same twice: a random prefix per process and a counter.

    A fresh UUID per request would cost a system call for its randomness, and on the
    busiest endpoints every system call is also a turn on the interpreter lock.
    """
    return f"{_prefix}{next(_numbers):016x}"


def _new_prefix() -> None:
    global _prefix
    _prefix = secrets.token_hex(8)


os.register_at_fork(after_in_child=_new_prefix)
