"""Typed settings read once from the environment (and `.env`) at start-up.

Every variable is validated here; a wrong value raises `SettingsError`, which the
command line turns into one line naming the variable and what it accepts. The
settings come in groups, one per concern; only the composition root reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from userfacing_api.domain.uploads import MAX_UPLOAD_SIZE

MAX_UPLOAD_SESSION_TTL = 24 * 3600.0

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
MAX_SECONDS = 365 * 24 * 3600
MAX_JOBS = 1_000_000
MAX_WORKERS = 64


class SettingsError(ValueError):
    """A configuration variable holds a value the service cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default="sqlite:///var/userfacing.db", repr=False)
    # DATABASE_SECRET as given; the composition root fills a Secrets Manager ARN into the URL.
    secret: str | None = field(default=None, repr=False)
    acquire_timeout: float = 2.0
    """Seconds to wait for a connection (PostgreSQL's pool, SQLite's turn)."""
    statement_timeout: float = 2.0
    """Seconds one statement may take (SQLite: also the wait for another process's lock)."""

    @property
    def engine(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    @property
    def sqlite_path(self) -> Path:
        """The file of a `sqlite:///relative` or `sqlite:////absolute` URL."""
        return Path(self.url.removeprefix("sqlite:///"))


@dataclass(frozen=True)
class StorageSettings:
    filesystem: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_region: str | None = None
    user_data_root_path: str = "var/user_data"
    leftover_sweep_interval: float = 3600.0
    upload_session_ttl: float = 24 * 3600.0
    """Seconds an upload session stays open."""
    upload_max_size: int | None = None
    """The largest file an upload session may declare; None: what the storage holds."""


@dataclass(frozen=True)
class CatalogueSettings:
    application_config_file: str = "config/application_config.yaml"


@dataclass(frozen=True)
class IdentitySettings:
    auth: bool = False
    provider: Literal["cognito", "local"] = "local"
    cognito_client_id: str | None = None
    cognito_secret: str | None = field(default=None, repr=False)
    cognito_user_pool_id: str | None = None
    cognito_region: str | None = None
    cognito_jwks_url: str | None = None
    cognito_issuer: str | None = None
    local_token_lifetime: int = 3600
    local_token_issuer: str = "userfacing-api-local"  # noqa: S105 (an issuer name, not a secret)


@dataclass(frozen=True)
class DeliverySettings:
    """The worker side jobs are delivered to, and how long delivery keeps trying."""

    workerfacing_api_url: str | None = None
    internal_api_key_secret: str | None = field(default=None, repr=False)
    deadline: float = 3600.0
    retry_cap: float = 60.0
    poll_interval: float = 5.0
    unknown_outcome_wait: float = 600.0
    """Seconds before a job sent without an answer is offered again."""
    connect_timeout: float = 5.0
    read_timeout: float = 90.0


@dataclass(frozen=True)
class JobSettings:
    user_active_jobs_limit: int | None = None
    """Most jobs a user may have that have not ended; None: no limit."""


@dataclass(frozen=True)
class EmailSettings:
    service: Literal["", "mailjet"] = ""
    sender_address: str | None = None
    api_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    mailjet_api_url: str = "https://api.mailjet.com"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    frontend_url: str | None = None
    """The web frontend: the one origin CORS lets in, and where e-mails link to."""
    shutdown_grace: float = 25.0
    header_read_timeout: float = 10.0
    body_idle_timeout: float = 60.0
    workers: int = 1
    """Server processes sharing the port; more than one only on PostgreSQL."""


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    catalogue: CatalogueSettings = field(default_factory=CatalogueSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    server: ServerSettings = field(default_factory=ServerSettings)


def unwrap_secret(value: str | None) -> str | None:
    """Accept a literal secret or an AWS Secrets Manager JSON `{"password": ...}` string."""
    if value is None or not value.startswith("{"):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return value
    if isinstance(parsed, dict) and isinstance(parsed.get("password"), str):
        return str(parsed["password"])
    return value


def fill_database_secret(url: str, secret: str) -> str:
    """Put the password into the `{}` of DATABASE_URL, percent-encoded so `@`, `#`, `/` survive."""
    return url.replace("{}", quote(secret, safe=""))


def is_secret_arn(value: str | None) -> bool:
    return bool(value) and str(value).startswith("arn:aws:secretsmanager:")


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def text_or(self, name: str, default: str) -> str:
        """The value, or `default` when the variable is unset or blank."""
        return self.text(name) or default

    def choice(self, name: str, accepted: tuple[str, ...], default: str) -> str:
        value = self.text_or(name, default)
        if value not in accepted:
            raise SettingsError(name, f"got {value!r}, accepted: {', '.join(map(repr, accepted))}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(name, f"got {value!r}, accepted: 0 or 1")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(name, f"got {value!r}, accepted: an integer") from None
        if not low <= number <= high:
            raise SettingsError(name, f"got {number}, accepted: {low}..{high}")
        return number

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        """An integer in `low..high`, or None when the variable is unset or empty."""
        if self.text(name) is None:
            return None
        return self.integer(name, low, low, high)

    def seconds(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(name, f"got {value!r}, accepted: a number of seconds") from None
        # Also refuses nan and inf, which no timer or deadline can use.
        if not 0 < number <= MAX_SECONDS:
            raise SettingsError(
                name, f"got {value!r}, accepted: a number of seconds above 0, at most {MAX_SECONDS}"
            )
        return number

    def http_url(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        if not _is_http_url(value):
            raise SettingsError(name, f"got {value!r}, accepted: an http:// or https:// URL")
        return value.rstrip("/")


def _is_http_url(value: str) -> bool:
    """Whether `value` is an http(s) URL with a host and a usable port.

    `urlsplit` raises for a malformed IPv6 host, and reading `port` for a port
    that is no number or above 65535.
    """
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build and validate the settings; raise `SettingsError` on the first bad variable."""
    read = _Reader(environ)
    storage = _storage(read)
    identity = _identity(read)
    email = _email(read)
    server = _server(read)
    database = _database(read)
    if server.workers > 1 and database.engine == "sqlite":
        raise SettingsError(
            "WORKERS",
            f"got {server.workers}, accepted with SQLite: 1 (several processes need PostgreSQL)",
        )
    return Settings(
        database=database,
        storage=storage,
        catalogue=CatalogueSettings(
            read.text_or("APPLICATION_CONFIG_FILE", CatalogueSettings.application_config_file)
        ),
        identity=identity,
        delivery=_delivery(read),
        jobs=JobSettings(
            user_active_jobs_limit=read.optional_integer("USER_ACTIVE_JOBS_LIMIT", 1, MAX_JOBS)
        ),
        email=email,
        server=server,
    )


def _storage(read: _Reader) -> StorageSettings:
    filesystem = read.choice("FILESYSTEM", ("local", "s3"), "local")
    s3_bucket = read.text("S3_BUCKET")
    if filesystem == "s3" and s3_bucket is None:
        raise SettingsError("S3_BUCKET", "required when FILESYSTEM=s3")
    default_root = "var/user_data" if filesystem == "local" else "user_data"
    root = read.text_or("USER_DATA_ROOT_PATH", default_root)
    if filesystem == "s3":
        root = root.strip("/")
    return StorageSettings(
        filesystem="s3" if filesystem == "s3" else "local",
        s3_bucket=s3_bucket,
        s3_region=read.text("S3_REGION"),
        user_data_root_path=root,
        leftover_sweep_interval=read.seconds(
            "LEFTOVER_SWEEP_INTERVAL", StorageSettings.leftover_sweep_interval
        ),
        upload_session_ttl=_upload_session_ttl(read),
        upload_max_size=read.optional_integer("UPLOAD_MAX_SIZE", 1, MAX_UPLOAD_SIZE),
    )


def _upload_session_ttl(read: _Reader) -> float:
    """At most a day: the leftover sweep aborts S3 multipart uploads older than that."""
    ttl = read.seconds("UPLOAD_SESSION_TTL", StorageSettings.upload_session_ttl)
    if ttl > MAX_UPLOAD_SESSION_TTL:
        raise SettingsError(
            "UPLOAD_SESSION_TTL", f"got {ttl:g}, accepted: at most {MAX_UPLOAD_SESSION_TTL:g}"
        )
    return ttl


def _database(read: _Reader) -> DatabaseSettings:
    url = read.text_or("DATABASE_URL", DatabaseSettings.url)
    secret = unwrap_secret(read.text("DATABASE_SECRET"))
    if "{}" in url:
        if secret is None:
            raise SettingsError(
                "DATABASE_SECRET", "DATABASE_URL has a {} placeholder but no secret is set"
            )
        if not is_secret_arn(secret):
            url = fill_database_secret(url, secret)
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise SettingsError("DATABASE_URL", "accepted: sqlite:///path or sqlite:////abs/path")
    elif scheme not in ("postgresql", "postgres"):
        raise SettingsError(
            "DATABASE_URL",
            f"got scheme {scheme!r}, accepted: sqlite:///path or postgresql://user:{{}}@host/db",
        )
    return DatabaseSettings(
        url=url,
        secret=secret,
        acquire_timeout=read.seconds("DATABASE_ACQUIRE_TIMEOUT", DatabaseSettings.acquire_timeout),
        statement_timeout=read.seconds(
            "DATABASE_STATEMENT_TIMEOUT", DatabaseSettings.statement_timeout
        ),
    )


def _identity(read: _Reader) -> IdentitySettings:
    pool_id = read.text("COGNITO_USER_POOL_ID")
    provider = read.choice("AUTH_PROVIDER", ("cognito", "local"), "cognito" if pool_id else "local")
    cognito_region = read.text("COGNITO_REGION")
    cognito_jwks_url = cognito_issuer = None
    client_id = read.text("COGNITO_CLIENT_ID")
    if provider == "cognito":
        if pool_id is None:
            raise SettingsError("COGNITO_USER_POOL_ID", "required when AUTH_PROVIDER=cognito")
        if client_id is None:
            raise SettingsError("COGNITO_CLIENT_ID", "required when AUTH_PROVIDER=cognito")
        if cognito_region is None:
            cognito_region = pool_id.split("_", 1)[0] if "_" in pool_id else None
        if cognito_region is None:
            raise SettingsError("COGNITO_REGION", "required when AUTH_PROVIDER=cognito")
        cognito_jwks_url, cognito_issuer = _cognito_urls(read, pool_id, cognito_region)
    return IdentitySettings(
        auth=read.flag("AUTH", False),
        provider="cognito" if provider == "cognito" else "local",
        cognito_client_id=client_id,
        cognito_secret=unwrap_secret(read.text("COGNITO_SECRET")),
        cognito_user_pool_id=pool_id,
        cognito_region=cognito_region,
        cognito_jwks_url=cognito_jwks_url,
        cognito_issuer=cognito_issuer,
        local_token_lifetime=read.integer(
            "LOCAL_TOKEN_LIFETIME", IdentitySettings.local_token_lifetime, 60, 7 * 24 * 3600
        ),
        local_token_issuer=read.text_or("LOCAL_TOKEN_ISSUER", IdentitySettings.local_token_issuer),
    )


def _cognito_urls(read: _Reader, pool_id: str, region: str) -> tuple[str, str]:
    """The pool's JWKS URL and token issuer, each overridable for emulators such as moto.

    The JWKS is served beside the pool's API, so an AWS endpoint override (the SDK's
    own `AWS_ENDPOINT_URL_COGNITO_IDP` or `AWS_ENDPOINT_URL`) moves it too.
    """
    aws_endpoint = f"https://cognito-idp.{region}.amazonaws.com"
    endpoint = (
        read.http_url("AWS_ENDPOINT_URL_COGNITO_IDP")
        or read.http_url("AWS_ENDPOINT_URL")
        or aws_endpoint
    )
    return (
        read.http_url("COGNITO_JWKS_URL") or f"{endpoint}/{pool_id}/.well-known/jwks.json",
        read.http_url("COGNITO_ISSUER") or f"{aws_endpoint}/{pool_id}",
    )


def _delivery(read: _Reader) -> DeliverySettings:
    return DeliverySettings(
        workerfacing_api_url=read.http_url("WORKERFACING_API_URL"),
        internal_api_key_secret=unwrap_secret(read.text("INTERNAL_API_KEY_SECRET")),
        deadline=read.seconds("JOB_DELIVERY_DEADLINE", DeliverySettings.deadline),
        retry_cap=read.seconds("JOB_DELIVERY_RETRY_CAP", DeliverySettings.retry_cap),
        poll_interval=read.seconds("JOB_DELIVERY_POLL_INTERVAL", DeliverySettings.poll_interval),
        unknown_outcome_wait=read.seconds(
            "JOB_DELIVERY_UNKNOWN_OUTCOME_WAIT", DeliverySettings.unknown_outcome_wait
        ),
        connect_timeout=read.seconds(
            "WORKERFACING_API_CONNECT_TIMEOUT", DeliverySettings.connect_timeout
        ),
        read_timeout=read.seconds("WORKERFACING_API_READ_TIMEOUT", DeliverySettings.read_timeout),
    )


def _email(read: _Reader) -> EmailSettings:
    service = read.choice("EMAIL_SENDER_SERVICE", ("", "mailjet"), "")
    address = read.text("EMAIL_SENDER_ADDRESS")
    api_key = read.text("EMAIL_SENDER_API_KEY")
    secret_key = unwrap_secret(read.text("EMAIL_SENDER_SECRET_KEY"))
    if service == "mailjet":
        for name, value in (
            ("EMAIL_SENDER_ADDRESS", address),
            ("EMAIL_SENDER_API_KEY", api_key),
            ("EMAIL_SENDER_SECRET_KEY", secret_key),
        ):
            if value is None:
                raise SettingsError(name, "required when EMAIL_SENDER_SERVICE=mailjet")
    return EmailSettings(
        service="mailjet" if service == "mailjet" else "",
        sender_address=address,
        api_key=api_key,
        secret_key=secret_key,
        mailjet_api_url=read.http_url("MAILJET_API_URL") or EmailSettings.mailjet_api_url,
    )


def _server(read: _Reader) -> ServerSettings:
    return ServerSettings(
        host=read.text_or("HOST", ServerSettings.host),
        port=read.integer("PORT", ServerSettings.port, 0, 65535),
        log_level=_log_level(read),
        frontend_url=read.http_url("FRONTEND_URL"),
        shutdown_grace=read.seconds("SHUTDOWN_GRACE", ServerSettings.shutdown_grace),
        header_read_timeout=read.seconds("HEADER_READ_TIMEOUT", ServerSettings.header_read_timeout),
        body_idle_timeout=read.seconds("BODY_IDLE_TIMEOUT", ServerSettings.body_idle_timeout),
        workers=read.integer("WORKERS", ServerSettings.workers, 1, MAX_WORKERS),
    )


def _log_level(read: _Reader) -> str:
    value = (read.text("LOG_LEVEL") or "INFO").upper()
    if value not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"got {value!r}, accepted: {', '.join(LOG_LEVELS)}")
    return value
