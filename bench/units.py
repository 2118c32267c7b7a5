"""Byte sizes written the way people type them (`1GiB`, `64MiB`, `4096`)."""

from __future__ import annotations

import re

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MB = 1_000_000

_FACTORS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": MB,
    "mb": MB,
    "g": 1000 * MB,
    "gb": 1000 * MB,
    "kib": KIB,
    "mib": MIB,
    "gib": GIB,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """`"1GiB"` -> 1073741824; decimal units (`MB`) are powers of 1000."""
    match = _SIZE.match(text)
    if match is None or match.group(2).lower() not in _FACTORS:
        raise ValueError(f"not a size: {text!r} (examples: 4096, 64MiB, 1GiB, 500MB)")
    return int(float(match.group(1)) * _FACTORS[match.group(2).lower()])


def format_size(size: int) -> str:
    for unit, factor in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"
