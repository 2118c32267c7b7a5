"""Secrets given as AWS Secrets Manager ARNs, read once at start-up.

A secret variable holds a literal, a JSON `{"password": ...}` string (both
handled by `load_settings`) or the ARN of a secret whose value is itself one of
those two. Errors name the variable and the AWS error code, never a value.
"""

from __future__ import annotations

from dataclasses import replace

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from userfacing_api.settings import (
    Settings,
    SettingsError,
    fill_database_secret,
    is_secret_arn,
    unwrap_secret,
)

SECRET_FIELDS = (
    "database_secret",
    "internal_api_key_secret",
    "cognito_secret",
    "email_sender_secret_key",
)

SECRETS_MANAGER_CONFIG = AioConfig(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)


class SecretsManagerResolver:
    """Reads secret strings, each from the region named in its ARN."""

    def __init__(self) -> None:
        self._session = aioboto3.Session()

    async def resolve(self, variable: str, arn: str) -> str:
        """The secret's value, unwrapped from `{"password": ...}` if it has that form."""
        region = _region_of(variable, arn)
        try:
            async with self._session.client(
                "secretsmanager", region_name=region, config=SECRETS_MANAGER_CONFIG
            ) as client:
                response = await client.get_secret_value(SecretId=arn)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "unknown error")
            raise SettingsError(
                variable, f"cannot read the secret from AWS Secrets Manager ({code})"
            ) from err
        except BotoCoreError as err:
            raise SettingsError(
                variable, f"cannot reach AWS Secrets Manager ({type(err).__name__})"
            ) from err
        value = unwrap_secret(response.get("SecretString"))
        if not value:
            raise SettingsError(variable, "the secret in AWS Secrets Manager has no text value")
        return value


async def resolve_secrets(settings: Settings) -> Settings:
    """`settings` with every secret ARN replaced by the secret, and the database URL filled."""
    if not any(is_secret_arn(getattr(settings, field)) for field in SECRET_FIELDS):
        return settings
    resolver = SecretsManagerResolver()

    async def value_of(variable: str, value: str | None) -> str | None:
        if value is None or not is_secret_arn(value):
            return value
        return await resolver.resolve(variable, value)

    database_secret = await value_of("DATABASE_SECRET", settings.database_secret)
    database_url = settings.database_url
    if is_secret_arn(settings.database_secret) and database_secret is not None:
        database_url = fill_database_secret(database_url, database_secret)
    return replace(
        settings,
        database_url=database_url,
        database_secret=database_secret,
        internal_api_key_secret=await value_of(
            "INTERNAL_API_KEY_SECRET", settings.internal_api_key_secret
        ),
        cognito_secret=await value_of("COGNITO_SECRET", settings.cognito_secret),
        email_sender_secret_key=await value_of(
            "EMAIL_SENDER_SECRET_KEY", settings.email_sender_secret_key
        ),
    )


def _region_of(variable: str, arn: str) -> str:
    """`arn:aws:secretsmanager:<region>:<account>:secret:<name>` → region."""
    parts = arn.split(":")
    if len(parts) < 7 or not parts[3] or parts[5] != "secret":
        raise SettingsError(
            variable, "not a valid Secrets Manager ARN (arn:aws:secretsmanager:region:...)"
        )
    return parts[3]
