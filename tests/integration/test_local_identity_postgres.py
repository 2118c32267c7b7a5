"""The local identity provider on the PostgreSQL server (one database per test session)."""

from __future__ import annotations

import pytest

from tests.integration import local_identity_scenarios as scenarios
from userfacing_api.adapters.db.database import open_database

pytestmark = pytest.mark.postgres


async def test_a_registered_user_gets_a_cognito_shaped_token(postgres_url: str) -> None:
    await scenarios.a_registered_user_gets_a_cognito_shaped_token(postgres_url)


async def test_a_token_expires_after_its_lifetime(postgres_url: str) -> None:
    await scenarios.a_token_expires_after_its_lifetime(postgres_url)


async def test_a_token_from_more_than_a_minute_ahead_is_refused(postgres_url: str) -> None:
    await scenarios.a_token_from_more_than_a_minute_ahead_is_refused(postgres_url)


async def test_a_username_can_be_registered_only_once(postgres_url: str) -> None:
    await scenarios.a_username_can_be_registered_only_once(postgres_url)


async def test_a_rejected_password_creates_no_user(postgres_url: str) -> None:
    await scenarios.a_rejected_password_creates_no_user(postgres_url)


async def test_tokens_need_the_right_password_of_a_known_user(postgres_url: str) -> None:
    await scenarios.tokens_need_the_right_password_of_a_known_user(postgres_url)


async def test_users_and_tokens_survive_a_restart(postgres_url: str) -> None:
    await scenarios.users_and_tokens_survive_a_restart(postgres_url)


async def test_instances_starting_together_share_one_signing_key(postgres_url: str) -> None:
    async with open_database(postgres_url) as database:
        await database.session.execute("DELETE FROM signing_keys")

    await scenarios.instances_starting_together_share_one_signing_key(postgres_url)
