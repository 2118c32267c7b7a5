"""A database that cannot be opened stops start-up with one line naming DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.free_port import free_port
from userfacing_api.bootstrap import migrate
from userfacing_api.settings import DatabaseSettings, Settings, SettingsError


async def test_an_unreachable_postgresql_names_database_url_without_the_password() -> None:
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(SettingsError) as raised:
        await migrate(Settings(DatabaseSettings(url)))
    assert raised.value.variable == "DATABASE_URL"
    assert "s3cret-pw" not in str(raised.value)


async def test_an_sqlite_file_that_cannot_be_created_names_database_url(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(SettingsError) as raised:
        await migrate(Settings(DatabaseSettings(f"sqlite:///{blocker / 'service.db'}")))
    assert raised.value.variable == "DATABASE_URL"
