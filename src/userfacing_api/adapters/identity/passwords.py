"""Password policy and salted scrypt hashes of the local identity provider.

A stored hash reads `scrypt$<n>$<r>$<p>$<salt>$<key>` (salt and key in URL-safe
base64), so the cost parameters can be raised later without breaking old hashes.
Hashing takes tens of milliseconds of CPU on purpose, hence the executor.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from functools import partial

from userfacing_api.domain.errors import BadRequest

MIN_LENGTH = 8
MAX_LENGTH = 256

_SCHEME = "scrypt"
_COST = 2**14
_BLOCK_SIZE = 8
_PARALLELISM = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024


def password_problem(password: str) -> str | None:
    """Why the password breaks the policy (Cognito's default, without symbols), or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must have at most {MAX_LENGTH} characters"
    if not any(char.isupper() for char in password):
        return "Password must contain an upper-case letter"
    if not any(char.islower() for char in password):
        return "Password must contain a lower-case letter"
    if not any(char.isdigit() for char in password):
        return "Password must contain a digit"
    return None


def check_password_policy(password: str) -> None:
    """Raise `BadRequest` with the reason when the password breaks the policy."""
    problem = password_problem(password)
    if problem is not None:
        raise BadRequest(problem)


async def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    derive = partial(_derive, password, salt, _COST, _BLOCK_SIZE, _PARALLELISM, _KEY_BYTES)
    key = await asyncio.get_running_loop().run_in_executor(None, derive)
    return "$".join(
        (_SCHEME, str(_COST), str(_BLOCK_SIZE), str(_PARALLELISM), _encode(salt), _encode(key))
    )


async def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash; False for a hash this module cannot read."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return False
    try:
        cost, block_size, parallelism = (int(part) for part in parts[1:4])
        salt, expected = _decode(parts[4]), _decode(parts[5])
    except (ValueError, binascii.Error):
        return False
    derive = partial(_derive, password, salt, cost, block_size, parallelism, len(expected))
    try:
        key = await asyncio.get_running_loop().run_in_executor(None, derive)
    except ValueError:
        return False
    return hmac.compare_digest(key, expected)


def _derive(
    password: str, salt: bytes, cost: int, block_size: int, parallelism: int, length: int
) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=cost,
        r=block_size,
        p=parallelism,
        maxmem=_MAX_MEMORY,
        dklen=length,
    )


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))
