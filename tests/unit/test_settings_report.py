"""The effective settings `check-config` prints: every variable once, secrets never."""

from __future__ import annotations

from userfacing_api.settings import load_settings
from userfacing_api.settings_report import settings_lines

SECRETS = {
    "DATABASE_URL": "postgresql://app:{}@db.internal:5432/decode",
    "DATABASE_SECRET": "db-pass-123",
    "INTERNAL_API_KEY_SECRET": "internal-key-456",
    "EMAIL_SENDER_SERVICE": "mailjet",
    "EMAIL_SENDER_ADDRESS": "noreply@example.org",
    "EMAIL_SENDER_API_KEY": "mailjet-key-789",
    "EMAIL_SENDER_SECRET_KEY": "mailjet-secret-000",
    "COGNITO_USER_POOL_ID": "eu-central-1_AbCdEf",
    "COGNITO_CLIENT_ID": "client-1",
    "COGNITO_SECRET": "cognito-secret-111",
}


def test_every_setting_is_printed_under_its_variable_name() -> None:
    lines = settings_lines(load_settings({}))

    names = [line.split("=", 1)[0] for line in lines if not line.startswith("#")]
    assert all(name.isupper() for name in names), names
    assert len(names) == len(set(names))
    assert {"DATABASE_URL", "USER_DATA_ROOT_PATH", "PORT", "INTERNAL_API_KEY_SECRET"} <= set(names)


def test_secrets_are_masked_even_inside_the_database_url() -> None:
    lines = settings_lines(load_settings(SECRETS))

    text = "\n".join(lines)
    assert "DATABASE_URL=postgresql://app:****@db.internal:5432/decode" in lines
    assert "DATABASE_SECRET=****" in lines
    assert "COGNITO_SECRET=****" in lines
    assert "EMAIL_SENDER_SECRET_KEY=****" in lines
    for name, value in SECRETS.items():
        if "SECRET" in name or "KEY" in name:
            assert value not in text


def test_the_s3_key_prefix_is_spelled_out() -> None:
    environ = {"FILESYSTEM": "s3", "S3_BUCKET": "decode-data", "USER_DATA_ROOT_PATH": "var/x"}

    lines = settings_lines(load_settings(environ))

    assert "USER_DATA_ROOT_PATH=var/x" in lines
    assert lines[-1].startswith("# users' files go to: s3://decode-data/var/x/<user id>/")
