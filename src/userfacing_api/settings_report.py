"""The effective settings as `userfacing-api check-config` prints them, secrets masked.

Printing what the service will actually use (defaults filled in, `.env` and the
environment merged) shows mistakes no validation can catch, such as a local
`USER_DATA_ROOT_PATH` that became the S3 key prefix after switching to S3.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from userfacing_api.settings import Settings

MASK = "****"

# Each variable with the setting it fills (group.field) and whether its value is secret.
VARIABLES: tuple[tuple[str, str, bool], ...] = (
    ("DATABASE_URL", "database.url", False),
    ("DATABASE_SECRET", "database.secret", True),
    ("DATABASE_ACQUIRE_TIMEOUT", "database.acquire_timeout", False),
    ("DATABASE_STATEMENT_TIMEOUT", "database.statement_timeout", False),
    ("FILESYSTEM", "storage.filesystem", False),
    ("S3_BUCKET", "storage.s3_bucket", False),
    ("S3_REGION", "storage.s3_region", False),
    ("USER_DATA_ROOT_PATH", "storage.user_data_root_path", False),
    ("LEFTOVER_SWEEP_INTERVAL", "storage.leftover_sweep_interval", False),
    ("UPLOAD_SESSION_TTL", "storage.upload_session_ttl", False),
    ("UPLOAD_MAX_SIZE", "storage.upload_max_size", False),
    ("APPLICATION_CONFIG_FILE", "catalogue.application_config_file", False),
    ("AUTH", "identity.auth", False),
    ("AUTH_PROVIDER", "identity.provider", False),
    ("COGNITO_USER_POOL_ID", "identity.cognito_user_pool_id", False),
    ("COGNITO_CLIENT_ID", "identity.cognito_client_id", False),
    ("COGNITO_REGION", "identity.cognito_region", False),
    ("COGNITO_SECRET", "identity.cognito_secret", True),
    ("COGNITO_JWKS_URL", "identity.cognito_jwks_url", False),
    ("COGNITO_ISSUER", "identity.cognito_issuer", False),
    ("LOCAL_TOKEN_LIFETIME", "identity.local_token_lifetime", False),
    ("LOCAL_TOKEN_ISSUER", "identity.local_token_issuer", False),
    ("WORKERFACING_API_URL", "delivery.workerfacing_api_url", False),
    ("INTERNAL_API_KEY_SECRET", "delivery.internal_api_key_secret", True),
    ("JOB_DELIVERY_DEADLINE", "delivery.deadline", False),
    ("JOB_DELIVERY_RETRY_CAP", "delivery.retry_cap", False),
    ("JOB_DELIVERY_POLL_INTERVAL", "delivery.poll_interval", False),
    ("JOB_DELIVERY_UNKNOWN_OUTCOME_WAIT", "delivery.unknown_outcome_wait", False),
    ("WORKERFACING_API_CONNECT_TIMEOUT", "delivery.connect_timeout", False),
    ("WORKERFACING_API_READ_TIMEOUT", "delivery.read_timeout", False),
    ("USER_ACTIVE_JOBS_LIMIT", "jobs.user_active_jobs_limit", False),
    ("EMAIL_SENDER_SERVICE", "email.service", False),
    ("EMAIL_SENDER_ADDRESS", "email.sender_address", False),
    ("EMAIL_SENDER_API_KEY", "email.api_key", True),
    ("EMAIL_SENDER_SECRET_KEY", "email.secret_key", True),
    ("MAILJET_API_URL", "email.mailjet_api_url", False),
    ("HOST", "server.host", False),
    ("PORT", "server.port", False),
    ("WORKERS", "server.workers", False),
    ("LOG_LEVEL", "server.log_level", False),
    ("FRONTEND_URL", "server.frontend_url", False),
    ("SHUTDOWN_GRACE", "server.shutdown_grace", False),
    ("HEADER_READ_TIMEOUT", "server.header_read_timeout", False),
    ("BODY_IDLE_TIMEOUT", "server.body_idle_timeout", False),
)
_SECRET_MARKERS = ("secret", "password", "key")


def settings_lines(settings: Settings) -> list[str]:
    """`NAME=value` for every setting, then where users' files go.

    A setting missing from `VARIABLES` is still shown, by its `group.field` name,
    masked when its name suggests a secret.
    """
    values = _leaves(settings)
    lines = [
        f"{variable}={_shown(values.pop(setting), secret)}"
        for variable, setting, secret in VARIABLES
        if setting in values
    ]
    lines += [
        f"{setting}={_shown(value, any(mark in setting for mark in _SECRET_MARKERS))}"
        for setting, value in values.items()
    ]
    return [*lines, f"# users' files go to: {_files_location(settings)}"]


def _leaves(settings: Any, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            found.update(_leaves(value, f"{prefix}{field.name}."))
        else:
            found[f"{prefix}{field.name}"] = value
    return found


def _shown(value: Any, secret: bool) -> str:
    if value is None:
        return ""
    if secret:
        return MASK
    if isinstance(value, bool):
        return "1" if value else "0"
    return _without_password(str(value))


def _without_password(text: str) -> str:
    """`text`, with the password of a URL masked (DATABASE_URL holds the secret filled in)."""
    if "://" not in text:
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{MASK}@{host}"))


def _files_location(settings: Settings) -> str:
    storage = settings.storage
    root = storage.user_data_root_path
    if storage.filesystem == "s3":
        return f"s3://{storage.s3_bucket}/{root}/<user id>/ (USER_DATA_ROOT_PATH is the key prefix)"
    return f"the folder {root}/<user id>/ (relative to the working directory unless absolute)"
