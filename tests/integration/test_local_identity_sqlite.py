"""The local identity provider on SQLite, each test with its own database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import local_identity_scenarios as scenarios


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


async def test_a_registered_user_gets_a_cognito_shaped_token(url: str) -> None:
    await scenarios.a_registered_user_gets_a_cognito_shaped_token(url)


async def test_a_token_expires_after_its_lifetime(url: str) -> None:
    await scenarios.a_token_expires_after_its_lifetime(url)


async def test_a_token_from_more_than_a_minute_ahead_is_refused(url: str) -> None:
    await scenarios.a_token_from_more_than_a_minute_ahead_is_refused(url)


async def test_a_username_can_be_registered_only_once(url: str) -> None:
    await scenarios.a_username_can_be_registered_only_once(url)


async def test_a_rejected_password_creates_no_user(url: str) -> None:
    await scenarios.a_rejected_password_creates_no_user(url)


async def test_tokens_need_the_right_password_of_a_known_user(url: str) -> None:
    await scenarios.tokens_need_the_right_password_of_a_known_user(url)


async def test_users_and_tokens_survive_a_restart(url: str) -> None:
    await scenarios.users_and_tokens_survive_a_restart(url)


async def test_instances_starting_together_share_one_signing_key(url: str) -> None:
    await scenarios.instances_starting_together_share_one_signing_key(url)
