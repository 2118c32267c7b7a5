"""Fixtures of the integration suite: real adapters against local servers."""

from __future__ import annotations

import pytest

from tests.integration.cognito_pool import cognito_pool as cognito_pool
from tests.integration.fakes_http import fake_mailjet as fake_mailjet
from tests.integration.fakes_http import fake_worker_api as fake_worker_api
from tests.integration.s3_support import s3_bucket as s3_bucket
from tests.integration.s3_support import s3_client as s3_client
from tests.integration.s3_support import s3_storage as s3_storage
from tests.integration.stalling_proxy import postgres_proxy as postgres_proxy
from userfacing_api.bootstrap import Identity

# Helpers that assert like a test module does (a failure shows the values compared).
pytest.register_assert_rewrite("tests.integration.worker_api_setup")


@pytest.fixture
def identity() -> Identity | None:
    """The real identity the settings choose, like every other adapter in this suite."""
    return None
