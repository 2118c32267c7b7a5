"""Secret variables given as AWS Secrets Manager ARNs, replaced by the secrets at start-up.

A secret variable holds a literal, a JSON `{"password": ...}` string (both
handled by `load_settings`) or the ARN of a secret whose value is itself one of
those two. Errors name the variable and the AWS error code, never a value.
"""

from __future__ import annotations

from dataclasses import replace

from userfacing_api.adapters.secrets_manager import SecretsManagerResolver, SecretUnreadable
from userfacing_api.settings import (
    Settings,
    SettingsError,
    fill_database_secret,
    is_secret_arn,
    unwrap_secret,
)


async def resolve_secrets(settings: Settings) -> Settings:
    """`settings` with every secret ARN replaced by the secret, and the database URL filled."""
    database, delivery = settings.database, settings.delivery
    identity, email = settings.identity, settings.email
    given = (database.secret, delivery.internal_api_key_secret, identity.cognito_secret)
    if not any(is_secret_arn(value) for value in (*given, email.secret_key)):
        return settings
    resolver = SecretsManagerResolver()

    async def value_of(variable: str, value: str | None) -> str | None:
        if value is None or not is_secret_arn(value):
            return value
        try:
            secret = unwrap_secret(await resolver.read(value))
        except SecretUnreadable as err:
            raise SettingsError(variable, str(err)) from err
        if not secret:
            raise SettingsError(variable, "the secret in AWS Secrets Manager has no text value")
        return secret

    database_secret = await value_of("DATABASE_SECRET", database.secret)
    database_url = database.url
    if is_secret_arn(database.secret) and database_secret is not None:
        database_url = fill_database_secret(database_url, database_secret)
    return replace(
        settings,
        database=replace(database, url=database_url, secret=database_secret),
        delivery=replace(
            delivery,
            internal_api_key_secret=await value_of(
                "INTERNAL_API_KEY_SECRET", delivery.internal_api_key_secret
            ),
        ),
        identity=replace(
            identity, cognito_secret=await value_of("COGNITO_SECRET", identity.cognito_secret)
        ),
        email=replace(
            email, secret_key=await value_of("EMAIL_SENDER_SECRET_KEY", email.secret_key)
        ),
    )
