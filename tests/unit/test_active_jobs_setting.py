"""USER_ACTIVE_JOBS_LIMIT: unlimited unless set, a positive number when set."""

from __future__ import annotations

import pytest

from userfacing_api.settings import SettingsError, load_settings


def test_by_default_a_user_may_have_any_number_of_active_jobs() -> None:
    assert load_settings({}).jobs.user_active_jobs_limit is None
    assert load_settings({"USER_ACTIVE_JOBS_LIMIT": " "}).jobs.user_active_jobs_limit is None


def test_a_limit_is_read_as_a_number() -> None:
    assert load_settings({"USER_ACTIVE_JOBS_LIMIT": "25"}).jobs.user_active_jobs_limit == 25


@pytest.mark.parametrize("value", ["0", "-1", "ten", "2.5"])
def test_a_limit_that_is_no_positive_integer_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"USER_ACTIVE_JOBS_LIMIT": value})

    assert refused.value.variable == "USER_ACTIVE_JOBS_LIMIT"
