"""Secret variables given as literals, JSON or Secrets Manager ARNs (on the moto server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import boto3
import pytest

from tests.conftest import ClientFactory
from userfacing_api.bootstrap import create_app, open_services
from userfacing_api.cli import main
from userfacing_api.settings import SettingsError, load_settings
from userfacing_api.settings_secrets import resolve_secrets

SECRETS_REGION = "eu-west-1"
"""Not the clients' default region: the region is taken from each ARN."""
MISSING_ARN = f"arn:aws:secretsmanager:{SECRETS_REGION}:123456789012:secret:missing-AbCdEf"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def secrets(moto_endpoint: str) -> Any:
    """A synchronous client for arranging secrets."""
    return boto3.client("secretsmanager", region_name=SECRETS_REGION)


def stored(secrets: Any, value: str) -> str:
    """The ARN of a new secret holding `value`."""
    arn: str = secrets.create_secret(Name=f"test/{uuid4().hex}", SecretString=value)["ARN"]
    return arn


async def test_literal_and_json_secrets_are_used_as_they_are(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://app:{}@db.example.org:5432/app",
            "DATABASE_SECRET": '{"username": "app", "password": "db-pass"}',
            "INTERNAL_API_KEY_SECRET": "internal-key",
            "COGNITO_USER_POOL_ID": "eu-central-1_pool",
            "COGNITO_CLIENT_ID": "client",
            "COGNITO_SECRET": '{"password": "client-secret"}',
        }
    )

    resolved = await resolve_secrets(settings)

    assert resolved.database.url == "postgresql://app:db-pass@db.example.org:5432/app"
    assert resolved.delivery.internal_api_key_secret == "internal-key"
    assert resolved.identity.cognito_secret == "client-secret"


async def test_every_secret_variable_may_name_a_secrets_manager_arn(secrets: Any) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://app:{}@db.example.org:5432/app",
            "DATABASE_SECRET": stored(secrets, '{"username": "app", "password": "db-pass"}'),
            "INTERNAL_API_KEY_SECRET": stored(secrets, "internal-key"),
            "COGNITO_USER_POOL_ID": "eu-central-1_pool",
            "COGNITO_CLIENT_ID": "client",
            "COGNITO_SECRET": stored(secrets, "client-secret"),
            "EMAIL_SENDER_SERVICE": "mailjet",
            "EMAIL_SENDER_ADDRESS": "noreply@example.org",
            "EMAIL_SENDER_API_KEY": "mailjet-key",
            "EMAIL_SENDER_SECRET_KEY": stored(secrets, '{"password": "mailjet-secret"}'),
        }
    )
    assert "{}" in settings.database.url

    resolved = await resolve_secrets(settings)

    assert resolved.database.url == "postgresql://app:db-pass@db.example.org:5432/app"
    assert resolved.database.secret == "db-pass"
    assert resolved.delivery.internal_api_key_secret == "internal-key"
    assert resolved.identity.cognito_secret == "client-secret"
    assert resolved.email.secret_key == "mailjet-secret"


async def test_a_secret_that_does_not_exist_stops_with_the_variable_named(
    moto_endpoint: str,
) -> None:
    settings = load_settings({"INTERNAL_API_KEY_SECRET": MISSING_ARN})

    with pytest.raises(SettingsError) as raised:
        await resolve_secrets(settings)

    assert raised.value.variable == "INTERNAL_API_KEY_SECRET"
    assert "ResourceNotFoundException" in str(raised.value)


async def test_an_arn_without_a_region_is_a_configuration_error() -> None:
    settings = load_settings({"COGNITO_SECRET": "arn:aws:secretsmanager:secret"})

    with pytest.raises(SettingsError) as raised:
        await resolve_secrets(settings)

    assert raised.value.variable == "COGNITO_SECRET"


async def test_the_service_uses_the_internal_api_key_read_from_secrets_manager(
    aiohttp_client: ClientFactory, environ: dict[str, str], secrets: Any
) -> None:
    arn = stored(secrets, "internal-key-from-aws")
    client = await aiohttp_client(
        create_app(load_settings({**environ, "INTERNAL_API_KEY_SECRET": arn}))
    )
    update = {"job_id": 987654, "status": "running", "runtime_details": None}

    with_the_secret = await client.put(
        "/_job_status", json=update, headers={"x-api-key": "internal-key-from-aws"}
    )
    with_the_arn = await client.put("/_job_status", json=update, headers={"x-api-key": arn})

    assert with_the_secret.status == 404, "accepted, but there is no such job"
    assert with_the_arn.status == 401


async def test_the_service_does_not_start_when_a_secret_cannot_be_read(
    environ: dict[str, str], moto_endpoint: str
) -> None:
    settings = load_settings({**environ, "INTERNAL_API_KEY_SECRET": MISSING_ARN})

    with pytest.raises(SettingsError, match=r"^INTERNAL_API_KEY_SECRET: "):
        async with open_services(settings):
            pytest.fail("the services opened")


def test_migrate_stops_with_one_line_when_a_secret_cannot_be_read(
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:{}@127.0.0.1:5432/app")
    monkeypatch.setenv("DATABASE_SECRET", MISSING_ARN)

    with pytest.raises(SystemExit) as exited:
        main(["migrate"])

    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "configuration error: DATABASE_SECRET: "
        "cannot read the secret from AWS Secrets Manager (ResourceNotFoundException)"
    )


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new database on the local server (skipped without one), dropped afterwards."""
    name = f"userfacing_secret_{uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as err:
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL}: {err}")
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _tables(database: str) -> set[str]:
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


@pytest.mark.postgres
def test_migrate_connects_with_the_database_secret_read_from_secrets_manager(
    secrets: Any, empty_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The server trusts every password, so here the secret fills in the user name instead."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{{}}@127.0.0.1:5432/{empty_database}")
    monkeypatch.setenv("DATABASE_SECRET", stored(secrets, json.dumps({"password": "postgres"})))

    main(["migrate"])

    assert {"users", "signing_keys"} <= asyncio.run(_tables(empty_database))
