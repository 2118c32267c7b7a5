"""The Cognito adapter against a real user pool: what moto cannot vouch for.

Moto neither checks the SECRET_HASH of password logins nor serves AWS's own
keys, so this checks both against the pool named by
`USERFACING_AWS_COGNITO_POOL_ID` and `USERFACING_AWS_COGNITO_CLIENT_ID`
(`USERFACING_AWS_COGNITO_SECRET` if the app client has a secret).
The user it registers is deleted again.
"""

from __future__ import annotations

import asyncio
import os
from uuid import uuid4

import boto3
import pytest

from userfacing_api.adapters.clock import SystemClock
from userfacing_api.adapters.identity.cognito import open_cognito_identity
from userfacing_api.bootstrap import cognito_pool_of
from userfacing_api.settings import Settings, load_settings

pytestmark = pytest.mark.aws

REQUIRED = ("USERFACING_AWS_COGNITO_POOL_ID", "USERFACING_AWS_COGNITO_CLIENT_ID")


@pytest.fixture
def real_pool_settings() -> Settings:
    if os.environ.get("AWS_ENDPOINT_URL"):
        pytest.fail("AWS_ENDPOINT_URL is set: run the aws tests on their own (pytest -m aws)")
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(f"set {', '.join(missing)} to run the aws tests")
    environ = {
        "AUTH": "1",
        "AUTH_PROVIDER": "cognito",
        "COGNITO_USER_POOL_ID": os.environ.get("USERFACING_AWS_COGNITO_POOL_ID", ""),
        "COGNITO_CLIENT_ID": os.environ.get("USERFACING_AWS_COGNITO_CLIENT_ID", ""),
        "COGNITO_SECRET": os.environ.get("USERFACING_AWS_COGNITO_SECRET", ""),
    }
    return load_settings(environ)


async def test_a_user_registered_in_a_real_pool_gets_a_token_that_verifies(
    real_pool_settings: Settings,
) -> None:
    username = f"userfacing-test-{uuid4().hex[:12]}@example.org"
    password = f"Aa1!{uuid4().hex}"
    async with open_cognito_identity(
        cognito_pool_of(real_pool_settings.identity), SystemClock()
    ) as (
        verifier,
        provider,
    ):
        registered = await provider.register(username, password, ["users"])
        try:
            issued = await provider.issue_token(username, password)
            principal = await verifier.verify(issued.id_token)
        finally:
            await asyncio.to_thread(
                boto3.client(
                    "cognito-idp", region_name=real_pool_settings.identity.cognito_region
                ).admin_delete_user,
                UserPoolId=real_pool_settings.identity.cognito_user_pool_id,
                Username=registered.user_id,
            )

    assert principal.user_id == registered.user_id
    assert principal.email == username
    assert principal.groups == ("users",)
