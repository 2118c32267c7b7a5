"""UPLOAD_SESSION_TTL and UPLOAD_MAX_SIZE: defaults and validation."""

from __future__ import annotations

import pytest

from userfacing_api.settings import SettingsError, load_settings


def test_sessions_last_a_day_and_any_size_up_to_5_tib_is_allowed_by_default() -> None:
    settings = load_settings({})

    assert settings.storage.upload_session_ttl == 24 * 3600
    assert settings.storage.upload_max_size is None


def test_the_session_lifetime_and_the_size_limit_are_read() -> None:
    settings = load_settings({"UPLOAD_SESSION_TTL": "3600", "UPLOAD_MAX_SIZE": "50000000000"})

    assert settings.storage.upload_session_ttl == 3600
    assert settings.storage.upload_max_size == 50_000_000_000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("UPLOAD_SESSION_TTL", "0"),
        ("UPLOAD_SESSION_TTL", "a day"),
        ("UPLOAD_SESSION_TTL", "86401"),
        ("UPLOAD_MAX_SIZE", "0"),
        ("UPLOAD_MAX_SIZE", "10GB"),
        ("UPLOAD_MAX_SIZE", str(5 * 1024**4 + 1)),
    ],
)
def test_a_wrong_value_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    assert refused.value.variable == variable
