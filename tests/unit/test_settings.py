"""`load_settings`: defaults of the embedded deployment, validation, secrets and their docs."""

from __future__ import annotations

import json
import re
from operator import attrgetter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from userfacing_api import settings as settings_module
from userfacing_api.settings import LOG_LEVELS, Settings, SettingsError, load_settings

REPOSITORY = Path(__file__).resolve().parents[2]
POOL = "eu-west-2_AbCdEf123"
COGNITO = {"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": "frontend-client"}
POSTGRES = "postgresql://app:{}@db.example.org:5432/userfacing"
MAILJET = {
    "EMAIL_SENDER_SERVICE": "mailjet",
    "EMAIL_SENDER_ADDRESS": "noreply@example.org",
    "EMAIL_SENDER_API_KEY": "mailjet-api-key-value",
    "EMAIL_SENDER_SECRET_KEY": "mailjet-secret-value",
}


def refusal(environ: dict[str, str]) -> SettingsError:
    """The error `load_settings` raises for `environ` (the test fails if it raises none)."""
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    return raised.value


def test_an_empty_environment_gives_the_embedded_deployment() -> None:
    settings = load_settings({})

    assert settings.storage.filesystem == "local"
    assert settings.storage.user_data_root_path == "var/user_data"
    assert settings.database.url == "sqlite:///var/userfacing.db"
    assert settings.database.engine == "sqlite"
    assert settings.identity.provider == "local"
    assert settings.identity.auth is False
    assert settings.server.port == 8000
    assert settings.server.host == "127.0.0.1"
    assert settings.server.log_level == "INFO"
    assert settings.email.service == ""
    assert settings.delivery.workerfacing_api_url is None
    assert settings.server.frontend_url is None


def test_blank_values_count_as_unset() -> None:
    assert load_settings({"FILESYSTEM": "", "PORT": "  ", "DATABASE_URL": ""}) == load_settings({})


@pytest.mark.parametrize("value", ["1", "true", "Yes", "on"])
def test_auth_is_on_for_the_usual_spellings_of_yes(value: str) -> None:
    assert load_settings({"AUTH": value}).identity.auth is True


@pytest.mark.parametrize("value", ["0", "false", "NO", "off"])
def test_auth_is_off_for_the_usual_spellings_of_no(value: str) -> None:
    assert load_settings({"AUTH": value}).identity.auth is False


def test_auth_with_any_other_value_is_refused() -> None:
    error = refusal({"AUTH": "maybe"})

    assert error.variable == "AUTH"
    assert "'maybe'" in str(error)


def test_an_unknown_filesystem_is_refused_naming_the_variable_and_the_accepted_values() -> None:
    error = refusal({"FILESYSTEM": "nfs"})

    assert error.variable == "FILESYSTEM"
    message = str(error)
    assert message.startswith("FILESYSTEM: ")
    assert "'nfs'" in message
    assert "'local'" in message
    assert "'s3'" in message


def test_s3_storage_needs_a_bucket() -> None:
    assert refusal({"FILESYSTEM": "s3"}).variable == "S3_BUCKET"


@pytest.mark.parametrize(
    ("environ", "root"),
    [({}, "var/user_data"), ({"FILESYSTEM": "s3", "S3_BUCKET": "bucket"}, "user_data")],
    ids=["local", "s3"],
)
def test_the_user_data_root_defaults_per_filesystem(environ: dict[str, str], root: str) -> None:
    assert load_settings(environ).storage.user_data_root_path == root


@pytest.mark.parametrize(
    ("given", "prefix"), [("/tenants/decode/", "tenants/decode"), ("user_data/", "user_data")]
)
def test_an_s3_root_is_a_key_prefix_without_outer_slashes(given: str, prefix: str) -> None:
    settings = load_settings({"FILESYSTEM": "s3", "S3_BUCKET": "b", "USER_DATA_ROOT_PATH": given})

    assert settings.storage.user_data_root_path == prefix


def test_a_local_root_is_kept_as_given() -> None:
    assert (
        load_settings({"USER_DATA_ROOT_PATH": "/srv/data/"}).storage.user_data_root_path
        == "/srv/data/"
    )


def test_the_identity_provider_is_cognito_as_soon_as_a_pool_is_configured() -> None:
    settings = load_settings(COGNITO)

    assert settings.identity.provider == "cognito"
    assert settings.identity.cognito_user_pool_id == POOL
    assert settings.identity.cognito_client_id == "frontend-client"


def test_the_local_provider_can_be_chosen_despite_a_configured_pool() -> None:
    assert load_settings({**COGNITO, "AUTH_PROVIDER": "local"}).identity.provider == "local"


def test_an_unknown_identity_provider_is_refused() -> None:
    error = refusal({"AUTH_PROVIDER": "ldap"})

    assert error.variable == "AUTH_PROVIDER"
    assert "'cognito'" in str(error)


def test_cognito_without_a_client_id_is_refused_naming_cognito_client_id() -> None:
    error = refusal({"COGNITO_USER_POOL_ID": POOL})

    assert error.variable == "COGNITO_CLIENT_ID"
    assert "COGNITO_CLIENT_ID" in str(error)


def test_cognito_chosen_without_a_pool_is_refused() -> None:
    assert refusal({"AUTH_PROVIDER": "cognito"}).variable == "COGNITO_USER_POOL_ID"


def test_the_cognito_region_is_the_prefix_of_the_pool_id() -> None:
    assert load_settings(COGNITO).identity.cognito_region == "eu-west-2"


def test_an_explicit_cognito_region_wins_over_the_pool_id_prefix() -> None:
    assert (
        load_settings({**COGNITO, "COGNITO_REGION": "us-east-1"}).identity.cognito_region
        == "us-east-1"
    )


def test_a_pool_id_without_a_region_prefix_needs_cognito_region() -> None:
    error = refusal({"COGNITO_USER_POOL_ID": "pool-without-region", "COGNITO_CLIENT_ID": "c"})

    assert error.variable == "COGNITO_REGION"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/service.db", Path("var/service.db")),
        ("sqlite:////srv/userfacing/service.db", Path("/srv/userfacing/service.db")),
    ],
    ids=["relative", "absolute"],
)
def test_sqlite_urls_name_a_relative_or_an_absolute_file(url: str, path: Path) -> None:
    settings = load_settings({"DATABASE_URL": url})

    assert settings.database.engine == "sqlite"
    assert settings.database.sqlite_path == path


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://service.db", "sqlite:service.db"])
def test_a_sqlite_url_without_a_file_is_refused(url: str) -> None:
    assert refusal({"DATABASE_URL": url}).variable == "DATABASE_URL"


def test_the_database_secret_fills_the_placeholder_of_a_postgresql_url() -> None:
    settings = load_settings({"DATABASE_URL": POSTGRES, "DATABASE_SECRET": "plain-pw"})

    assert settings.database.engine == "postgresql"
    assert settings.database.url == "postgresql://app:plain-pw@db.example.org:5432/userfacing"


def test_a_database_secret_in_secrets_manager_json_gives_its_password() -> None:
    secret = json.dumps({"username": "app", "password": "json-pw", "host": "db"})

    settings = load_settings({"DATABASE_URL": POSTGRES, "DATABASE_SECRET": secret})

    assert settings.database.url == "postgresql://app:json-pw@db.example.org:5432/userfacing"
    assert settings.database.secret == "json-pw"


def test_a_password_with_url_delimiters_is_percent_encoded_and_survives_parsing() -> None:
    password = "p@ss#w/rd:50%?"

    settings = load_settings({"DATABASE_URL": POSTGRES, "DATABASE_SECRET": password})

    parts = urlsplit(settings.database.url)
    assert parts.hostname == "db.example.org"
    assert parts.port == 5432
    assert parts.path == "/userfacing"
    assert parts.password is not None
    assert unquote(parts.password) == password


def test_a_database_secret_arn_is_left_for_start_up_to_resolve() -> None:
    arn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:userfacing/db-AbCdEf"

    settings = load_settings({"DATABASE_URL": POSTGRES, "DATABASE_SECRET": arn})

    assert settings.database.url == POSTGRES
    assert settings.database.secret == arn


def test_a_placeholder_without_a_secret_is_refused_naming_database_secret() -> None:
    error = refusal({"DATABASE_URL": POSTGRES})

    assert error.variable == "DATABASE_SECRET"
    assert "DATABASE_SECRET" in str(error)


def test_the_short_postgres_scheme_is_accepted() -> None:
    settings = load_settings({"DATABASE_URL": "postgres://app@db.example.org/userfacing"})

    assert settings.database.engine == "postgresql"


@pytest.mark.parametrize("url", ["mysql://app@db/userfacing", "var/userfacing.db"])
def test_a_database_url_of_another_kind_is_refused_naming_database_url(url: str) -> None:
    error = refusal({"DATABASE_URL": url})

    assert error.variable == "DATABASE_URL"
    assert str(error).startswith("DATABASE_URL: ")


@pytest.mark.parametrize("variable", ["WORKERFACING_API_URL", "FRONTEND_URL", "MAILJET_API_URL"])
@pytest.mark.parametrize(
    "value",
    [
        "frontend.example.org",
        "ftp://frontend.example.org",
        "http://",
        "https://:8443",
        "http://[::1",
        "http://frontend.example.org:99999",
        "http://frontend.example.org:port",
    ],
)
def test_a_url_setting_must_be_an_http_or_https_url(variable: str, value: str) -> None:
    error = refusal({variable: value})

    assert error.variable == variable
    assert "http://" in str(error)


@pytest.mark.parametrize(
    ("variable", "attribute"),
    [
        ("WORKERFACING_API_URL", "delivery.workerfacing_api_url"),
        ("FRONTEND_URL", "server.frontend_url"),
    ],
)
@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://frontend.example.org/", "https://frontend.example.org"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("http://[::1]:8001/api/", "http://[::1]:8001/api"),
    ],
)
def test_an_http_url_setting_is_kept_without_its_trailing_slash(
    variable: str, attribute: str, value: str, kept: str
) -> None:
    assert attrgetter(attribute)(load_settings({variable: value})) == kept


@pytest.mark.parametrize(("value", "port"), [("8080", 8080), ("65535", 65535), ("0", 0)])
def test_the_port_is_an_integer_up_to_65535(value: str, port: int) -> None:
    assert load_settings({"PORT": value}).server.port == port


@pytest.mark.parametrize("value", ["65536", "-1", "http", "80.5"])
def test_a_port_out_of_range_or_not_an_integer_is_refused(value: str) -> None:
    error = refusal({"PORT": value})

    assert error.variable == "PORT"
    assert value in str(error)


@pytest.mark.parametrize(("value", "level"), [("debug", "DEBUG"), ("Warning", "WARNING")])
def test_the_log_level_is_case_insensitive(value: str, level: str) -> None:
    assert load_settings({"LOG_LEVEL": value}).server.log_level == level


def test_an_unknown_log_level_is_refused_with_the_accepted_levels() -> None:
    error = refusal({"LOG_LEVEL": "verbose"})

    assert error.variable == "LOG_LEVEL"
    assert all(level in str(error) for level in LOG_LEVELS)


@pytest.mark.parametrize(("value", "seconds"), [("90", 90.0), ("0.5", 0.5), ("86400", 86400.0)])
def test_the_job_delivery_deadline_is_a_number_of_seconds(value: str, seconds: float) -> None:
    assert load_settings({"JOB_DELIVERY_DEADLINE": value}).delivery.deadline == seconds


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan", "inf", "1e300"])
@pytest.mark.parametrize(
    "variable", ["JOB_DELIVERY_DEADLINE", "JOB_DELIVERY_RETRY_CAP", "JOB_DELIVERY_POLL_INTERVAL"]
)
def test_a_duration_that_no_timer_can_use_is_refused(variable: str, value: str) -> None:
    error = refusal({variable: value})

    assert error.variable == variable
    assert value in str(error)


def test_mailjet_e_mail_is_configured_with_its_address_and_keys() -> None:
    settings = load_settings(MAILJET)

    assert settings.email.service == "mailjet"
    assert settings.email.sender_address == "noreply@example.org"
    assert settings.email.api_key == "mailjet-api-key-value"
    assert settings.email.secret_key == "mailjet-secret-value"


@pytest.mark.parametrize(
    "missing", ["EMAIL_SENDER_ADDRESS", "EMAIL_SENDER_API_KEY", "EMAIL_SENDER_SECRET_KEY"]
)
def test_mailjet_without_one_of_its_settings_is_refused_naming_it(missing: str) -> None:
    environ = {name: value for name, value in MAILJET.items() if name != missing}

    error = refusal(environ)

    assert error.variable == missing
    assert missing in str(error)


def test_an_unknown_e_mail_service_is_refused() -> None:
    assert refusal({"EMAIL_SENDER_SERVICE": "sendgrid"}).variable == "EMAIL_SENDER_SERVICE"


@pytest.mark.parametrize(
    ("variable", "attribute"),
    [
        ("INTERNAL_API_KEY_SECRET", "delivery.internal_api_key_secret"),
        ("COGNITO_SECRET", "identity.cognito_secret"),
        ("EMAIL_SENDER_SECRET_KEY", "email.secret_key"),
        ("DATABASE_SECRET", "database.secret"),
    ],
)
def test_a_secret_given_as_secrets_manager_json_yields_its_password(
    variable: str, attribute: str
) -> None:
    secret = json.dumps({"username": "service", "password": "the-password"})

    settings = load_settings({variable: secret})

    assert attrgetter(attribute)(settings) == "the-password"


def test_the_representation_of_the_settings_holds_no_secret() -> None:
    secrets = {
        "INTERNAL_API_KEY_SECRET": "internal-key-value",
        "COGNITO_SECRET": "cognito-secret-value",
        "DATABASE_SECRET": json.dumps({"password": "database-password-value"}),
    }
    environ = {**COGNITO, **MAILJET, **secrets, "DATABASE_URL": POSTGRES}

    settings = load_settings(environ)
    shown = repr(settings)

    assert settings.delivery.internal_api_key_secret == "internal-key-value"
    assert "database-password-value" in settings.database.url
    for value in (
        "internal-key-value",
        "cognito-secret-value",
        "database-password-value",
        "mailjet-api-key-value",
        "mailjet-secret-value",
    ):
        assert value not in shown
    assert str(settings) == shown
    assert POOL in shown


def _variables_read_by_settings() -> set[str]:
    source = Path(settings_module.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'\bread(?:er)?\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    return {name for name in read if not name.startswith("AWS_ENDPOINT_URL")} - set(LOG_LEVELS)


def test_the_variables_read_by_settings_are_found_in_its_source() -> None:
    names = _variables_read_by_settings()

    assert {"FILESYSTEM", "DATABASE_URL", "APPLICATION_CONFIG_FILE", "PORT"} <= names
    assert len(names) > 25


@pytest.mark.parametrize("variable", sorted(_variables_read_by_settings()))
def test_every_variable_is_in_the_env_example(variable: str) -> None:
    example = (REPOSITORY / ".env.example").read_text(encoding="utf-8")

    assert re.search(rf"^{variable}=", example, re.MULTILINE), f"{variable} not in .env.example"


@pytest.mark.parametrize("variable", sorted(_variables_read_by_settings()))
def test_every_variable_is_in_the_readme(variable: str) -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")

    assert re.search(rf"`{variable}[`=]", readme), f"{variable} not in README.md"


def test_the_dataclass_defaults_match_the_embedded_deployment() -> None:
    assert load_settings({}) == Settings()


def test_one_worker_process_by_default() -> None:
    assert load_settings({}).server.workers == 1


def test_several_workers_are_accepted_with_postgresql() -> None:
    settings = load_settings({"WORKERS": "4", "DATABASE_URL": "postgresql://u@db/userfacing"})

    assert settings.server.workers == 4


@pytest.mark.parametrize("value", ["0", "-1", "two", "65"])
def test_a_worker_count_that_is_no_positive_integer_up_to_64_is_refused(value: str) -> None:
    error = refusal({"WORKERS": value, "DATABASE_URL": "postgresql://u@db/userfacing"})

    assert error.variable == "WORKERS"


def test_several_workers_on_sqlite_are_refused() -> None:
    error = refusal({"WORKERS": "2"})

    assert error.variable == "WORKERS"
    assert "PostgreSQL" in str(error)
