"""Password policy and hashes of the local identity provider."""

from __future__ import annotations

import pytest

from userfacing_api.adapters.identity.passwords import (
    check_password_policy,
    hash_password,
    password_problem,
    verify_password,
)
from userfacing_api.domain.errors import BadRequest

GOOD = "Correct-horse-9"


@pytest.mark.parametrize("password", [GOOD, "Abcdefg1", "ÄÖÜäöü12", "Aa1" + "x" * 253])
def test_passwords_meeting_the_policy_are_accepted(password: str) -> None:
    assert password_problem(password) is None
    check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Abcde1", "at least 8 characters"),
        ("Aa1" + "x" * 254, "at most 256 characters"),
        ("abcdefg1", "upper-case"),
        ("ABCDEFG1", "lower-case"),
        ("Abcdefgh", "digit"),
    ],
)
def test_passwords_breaking_the_policy_are_rejected_with_the_reason(
    password: str, reason: str
) -> None:
    assert reason in (password_problem(password) or "")
    with pytest.raises(BadRequest, match=reason):
        check_password_policy(password)


async def test_a_hash_verifies_its_password_and_no_other() -> None:
    stored = await hash_password(GOOD)

    assert await verify_password(GOOD, stored)
    assert not await verify_password("Correct-horse-8", stored)
    assert not await verify_password("", stored)


async def test_a_hash_never_contains_the_password_and_is_salted() -> None:
    first = await hash_password(GOOD)
    second = await hash_password(GOOD)

    assert GOOD not in first
    assert first.startswith("scrypt$")
    assert first != second
    assert await verify_password(GOOD, second)


async def test_a_hash_of_a_password_with_unusual_characters_verifies() -> None:
    password = "Pässwörd-\u00e9-\U0001f600-1A"
    stored = await hash_password(password)

    assert await verify_password(password, stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "bcrypt$16384$8$1$c2FsdA==$a2V5",
        "scrypt$x$8$1$c2FsdA==$a2V5",
        "scrypt$16384$8$1$not base64!$a2V5",
        "scrypt$16384$8$1$c2FsdA==$",
        "scrypt$3$8$1$c2FsdA==$a2V5",
    ],
)
async def test_an_unreadable_stored_hash_never_verifies(stored: str) -> None:
    assert not await verify_password(GOOD, stored)
