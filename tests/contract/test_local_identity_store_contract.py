"""The local identity provider's stores (users, signing keys), run against every backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.databases import empty_database
from tests.fakes import InMemorySigningKeyStore, InMemoryUserStore
from userfacing_api.adapters.db.database import open_database
from userfacing_api.domain.errors import AlreadyExists
from userfacing_api.ports.local_identity import SigningKeyStore, StoredUser, UserStore

CREATED = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))


@dataclass(frozen=True)
class Stores:
    users: UserStore
    keys: SigningKeyStore


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The database URL of the backend under test (None: in memory), resolved outside the loop."""
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def stores(backend_url: str | None) -> AsyncIterator[Stores]:
    if backend_url is None:
        yield Stores(InMemoryUserStore(), InMemorySigningKeyStore())
        return
    async with open_database(await empty_database(backend_url)) as database:
        yield Stores(database.users, database.signing_keys)


def user(username: str = "carol@example.org", user_id: str = "carol-id") -> StoredUser:
    return StoredUser(
        user_id=user_id,
        username=username,
        email=username,
        groups=("users", "admins"),
        password_hash="scrypt$not-a-real-hash",
        created_at=CREATED,
    )


def unique_kid() -> str:
    """A key id of this test alone: keys are not emptied between tests."""
    return f"kid-{uuid.uuid4().hex}"


async def test_a_stored_user_reads_back_unchanged(stores: Stores) -> None:
    await stores.users.add(user())

    found = await stores.users.find("carol@example.org")

    assert found == user()
    assert found is not None
    assert found.created_at.astimezone(UTC) == CREATED.astimezone(UTC)


async def test_an_unknown_username_is_not_found(stores: Stores) -> None:
    await stores.users.add(user())

    assert await stores.users.find("dave@example.org") is None


async def test_a_username_is_stored_only_once(stores: Stores) -> None:
    await stores.users.add(user())

    with pytest.raises(AlreadyExists):
        await stores.users.add(user(user_id="other-id"))

    assert await stores.users.find("carol@example.org") == user()


async def test_an_unknown_key_id_has_no_key(stores: Stores) -> None:
    assert await stores.keys.find(unique_kid()) is None


async def test_the_first_key_stored_under_an_id_stays(stores: Stores) -> None:
    kid = unique_kid()

    await stores.keys.add_if_absent(kid, "first-pem", CREATED)
    await stores.keys.add_if_absent(kid, "second-pem", CREATED)

    assert await stores.keys.find(kid) == "first-pem"
