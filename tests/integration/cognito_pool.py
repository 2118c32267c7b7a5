"""User pools on the moto server for the Cognito tests, arranged with plain boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import boto3
import pytest

from tests.integration.moto import MOTO_REGION
from userfacing_api.settings import Settings, load_settings

PASSWORD = "Correct-horse-9"


@dataclass(frozen=True)
class CognitoPool:
    pool_id: str
    client_id: str
    """An app client without a secret."""
    secret_client_id: str
    """An app client with a secret."""
    client_secret: str
    endpoint: str

    def environ(self, **extra: str) -> dict[str, str]:
        """The variables that point the service at this pool through the moto server."""
        return {
            "AUTH": "1",
            "AUTH_PROVIDER": "cognito",
            "COGNITO_USER_POOL_ID": self.pool_id,
            "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_REGION": MOTO_REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            **extra,
        }

    def settings(self, **extra: str) -> Settings:
        return load_settings(self.environ(**extra))


def cognito_client() -> Any:
    """A synchronous client for arranging pools; only ever used outside the code under test."""
    return boto3.client("cognito-idp", region_name=MOTO_REGION)


@pytest.fixture
def cognito_pool(moto_endpoint: str) -> CognitoPool:
    """A fresh pool with the `users` group and two app clients, as the service expects."""
    client = cognito_client()
    pool_id = client.create_user_pool(PoolName=f"pool-{uuid4().hex[:8]}")["UserPool"]["Id"]
    client.create_group(UserPoolId=pool_id, GroupName="users")
    app_client = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="frontend",
        ReadAttributes=["email"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    secret_client = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="backend",
        GenerateSecret=True,
        ReadAttributes=["email"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return CognitoPool(
        pool_id=pool_id,
        client_id=app_client["ClientId"],
        secret_client_id=secret_client["ClientId"],
        client_secret=secret_client["ClientSecret"],
        endpoint=moto_endpoint,
    )
