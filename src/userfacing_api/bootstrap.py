"""Composition root: the only module that knows which adapter serves which port.

Three steps, each usable on its own:
- `open_adapters(settings)` opens one adapter per port as the settings choose;
- `build(adapters, ...)` assembles the use cases from any adapters, opened or
  fake, without doing any I/O;
- `Assembly.running()` runs the background work (the delivery dispatcher,
  notices) for as long as the services are in use.
`open_services` chains them and `create_app` serves the result over HTTP.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypedDict, Unpack

import aiohttp
from aiohttp import web

from userfacing_api.adapters.catalogue.reloading import ReloadingCatalogue
from userfacing_api.adapters.catalogue.s3 import open_s3_catalogue
from userfacing_api.adapters.catalogue.yaml_file import YamlFileCatalogue
from userfacing_api.adapters.clock import SystemClock
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.db.postgres.listener import listening
from userfacing_api.adapters.db.stores import Database
from userfacing_api.adapters.event_signal import LocalEventSignal
from userfacing_api.adapters.http.app import create_http_app
from userfacing_api.adapters.http.app_keys import AccessInfo
from userfacing_api.adapters.identity.cognito import CognitoPool, open_cognito_identity
from userfacing_api.adapters.identity.local import DEFAULT_AUDIENCE, open_local_identity
from userfacing_api.adapters.mailjet import MailjetNotifier
from userfacing_api.adapters.metrics.prometheus import PrometheusMetrics
from userfacing_api.adapters.null_notifier import NullNotifier
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.local_uploads import LocalUploadStorage
from userfacing_api.adapters.storage.s3 import S3FileStorage, open_s3_client
from userfacing_api.adapters.storage.s3_uploads import S3UploadStorage
from userfacing_api.adapters.worker_api import WorkerApiQueue, open_worker_api_session
from userfacing_api.domain.applications import InvalidCatalogue
from userfacing_api.domain.delivery import RetryPolicy
from userfacing_api.ports.catalogue import ApplicationCatalogue, CatalogueUnreadable
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.database import DatabaseUnavailable
from userfacing_api.ports.events import EventSignal
from userfacing_api.ports.identity import IdentityProvider, TokenVerifier
from userfacing_api.ports.jobs import JobStore
from userfacing_api.ports.metrics import Metrics, NoMetrics
from userfacing_api.ports.notifier import Notifier
from userfacing_api.ports.storage import FileStorage
from userfacing_api.ports.uploads import UploadStorage
from userfacing_api.ports.worker_queue import WorkerQueue
from userfacing_api.runtime.background import BackgroundTasks
from userfacing_api.runtime.dispatcher_runner import DispatcherRunner
from userfacing_api.runtime.leftover_sweeps import LeftoverSweeps
from userfacing_api.runtime.periodic import Periodic
from userfacing_api.runtime.readiness import ReadinessService
from userfacing_api.service_layer.container import Services
from userfacing_api.service_layer.delivery import JobDeliveries
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher
from userfacing_api.service_layer.files import FileService
from userfacing_api.service_layer.job_events import JobEventService
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.jobs import JobService
from userfacing_api.service_layer.notifications import JobEndNotifications
from userfacing_api.service_layer.uploads import UploadService
from userfacing_api.settings import (
    DeliverySettings,
    EmailSettings,
    IdentitySettings,
    JobSettings,
    Settings,
    SettingsError,
    StorageSettings,
)
from userfacing_api.settings_secrets import resolve_secrets

logger = logging.getLogger("userfacing_api")

MAILJET_TIMEOUT_SECONDS = 30.0
UPLOAD_SWEEP_INTERVAL = 600.0
"""Seconds between two sweeps of expired upload sessions (the first runs at start-up)."""
# The contract: ready only when the database answers within a second.
READINESS_TIMEOUT_SECONDS = 1.0
# A delivery's lease outlasts its call to the worker-facing API by this much.
LEASE_MARGIN_SECONDS = 30.0
EVENT_STREAM_HEARTBEAT_SECONDS = 15.0

Identity = tuple[TokenVerifier, IdentityProvider]


class Given(TypedDict, total=False):
    """Adapters a caller passes in place of those the settings would choose (None: not given).

    The caller owns them: they are neither opened nor closed here.
    """

    identity: Identity | None
    worker_queue: WorkerQueue | None
    notifier: Notifier | None
    storage: FileStorage | None
    metrics: PrometheusMetrics | None


@dataclass(frozen=True)
class Adapters:
    """One adapter per port: what `build` assembles the use cases from."""

    clock: Clock
    catalogue: ApplicationCatalogue
    job_store: JobStore
    storage: FileStorage
    uploads: UploadStorage
    token_verifier: TokenVerifier
    identity_provider: IdentityProvider | None
    """None unless user management (AUTH=1) is on."""
    notifier: Notifier
    worker_queue: WorkerQueue | None
    """None without a worker side: accepted jobs wait in the outbox."""
    metrics: Metrics = field(default_factory=NoMetrics)
    events: EventSignal = field(default_factory=LocalEventSignal)
    """Wakes the event streams when jobs of their user may have new events."""


@dataclass(frozen=True)
class Assembly:
    """The use cases, and the background work that has to run while they are in use."""

    services: Services
    tasks: BackgroundTasks
    deliveries: JobDeliveries | None
    """How jobs are delivered; None without a worker side."""
    dispatcher: DeliveryDispatcher | None
    runner: DispatcherRunner | None
    sweeps: LeftoverSweeps
    upload_sweeper: Periodic
    """Discards expired upload sessions with their parts."""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """The services, with the delivery dispatcher and the sweeps of upload leftovers
        running until the block ends.

        On exit the dispatcher stops first, then background work (notices, deliveries
        the requests did not wait for) gets to finish.
        """
        async with AsyncExitStack() as stack:
            stack.push_async_callback(self.tasks.close)
            await stack.enter_async_context(self.sweeps.running())
            await stack.enter_async_context(self.upload_sweeper.running())
            if self.runner is not None:
                await stack.enter_async_context(self.runner.running())
            yield self.services


def build(
    adapters: Adapters,
    *,
    delivery: DeliverySettings | None = None,
    sweep_interval: float = StorageSettings.leftover_sweep_interval,
    upload_session_ttl: float = StorageSettings.upload_session_ttl,
    upload_max_size: int | None = None,
    jobs: JobSettings | None = None,
    event_stream_heartbeat: float = EVENT_STREAM_HEARTBEAT_SECONDS,
    jitter: Callable[[], float] = random.random,
) -> Assembly:
    """The use cases over `adapters`; `jitter` spreads the delivery retries, and
    `event_stream_heartbeat` is the seconds between the comments that keep an idle
    event stream open."""
    delivery = delivery or DeliverySettings()
    metrics = adapters.metrics
    jobs = jobs or JobSettings()
    store, clock = adapters.job_store, adapters.clock
    tasks = BackgroundTasks()
    notifications = JobEndNotifications(adapters.notifier, tasks)
    deliveries = dispatcher = runner = None
    wake_dispatcher = _nothing
    if adapters.worker_queue is not None:
        deliveries = JobDeliveries(
            store,
            adapters.worker_queue,
            clock,
            notifications,
            deadline=timedelta(seconds=delivery.deadline),
            retry=RetryPolicy(max_delay=delivery.retry_cap),
            lease_duration=timedelta(
                seconds=delivery.connect_timeout + delivery.read_timeout + LEASE_MARGIN_SECONDS
            ),
            unknown_outcome_wait=timedelta(seconds=delivery.unknown_outcome_wait),
            jitter=jitter,
            metrics=metrics,
        )
        dispatcher = DeliveryDispatcher(store, deliveries, clock)
        runner = DispatcherRunner(dispatcher, clock, delivery.poll_interval)
        wake_dispatcher = runner.wake
    files = FileService(adapters.storage)
    uploads = UploadService(
        adapters.uploads,
        files,
        clock,
        ttl=timedelta(seconds=upload_session_ttl),
        max_size=upload_max_size,
    )
    services = Services(
        files=files,
        uploads=uploads,
        token_verifier=adapters.token_verifier,
        identity_provider=adapters.identity_provider,
        jobs=JobService(
            store,
            adapters.storage,
            adapters.catalogue,
            clock,
            deliveries,
            wake_dispatcher,
            tasks.spawn,
            metrics=metrics,
            active_jobs_limit=jobs.user_active_jobs_limit,
        ),
        job_status=JobStatusService(
            store, clock, notifications, delivery.internal_api_key_secret, metrics=metrics
        ),
        job_events=JobEventService(
            store, adapters.events, heartbeat_seconds=event_stream_heartbeat
        ),
        readiness=ReadinessService(
            {"database": store.ping, "file storage": adapters.storage.ping},
            timeout_seconds=READINESS_TIMEOUT_SECONDS,
        ),
    )
    sweeps = LeftoverSweeps(adapters.storage, clock, sweep_interval)
    upload_sweeper = Periodic(uploads.sweep, UPLOAD_SWEEP_INTERVAL)
    return Assembly(services, tasks, deliveries, dispatcher, runner, sweeps, upload_sweeper)


def _nothing() -> None:
    """Waking a dispatcher that does not run."""


@asynccontextmanager
async def open_adapters(settings: Settings, **given: Unpack[Given]) -> AsyncIterator[Adapters]:
    """Open the adapters the settings choose, except those given; close them on exit.

    Secret ARNs are read first. A setting an adapter cannot start with raises
    `SettingsError` naming the variable: an unusable application catalogue names
    APPLICATION_CONFIG_FILE, a database that cannot be opened DATABASE_URL.
    """
    settings = await resolve_secrets(settings)
    clock = SystemClock()
    metrics = given.get("metrics") or PrometheusMetrics()
    async with AsyncExitStack() as stack:
        catalogue = await _catalogue(stack, settings)
        catalogue.report_reloads_to(metrics.catalogue_reloaded)
        database = await _database(stack, settings)
        events = await _event_signal(stack, database, settings)
        storage, uploads = await _storages(stack, settings.storage, given.get("storage"))
        verifier, provider = given.get("identity") or await _identity(
            stack, settings.identity, database, clock
        )
        yield Adapters(
            clock=clock,
            catalogue=catalogue,
            job_store=database.jobs,
            storage=storage,
            uploads=uploads,
            token_verifier=verifier,
            identity_provider=provider if settings.identity.auth else None,
            notifier=given.get("notifier")
            or await _notifier(stack, settings.email, settings.server.frontend_url),
            worker_queue=given.get("worker_queue") or await _worker_queue(stack, settings.delivery),
            metrics=metrics,
            events=events,
        )


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    event_stream_heartbeat: float = EVENT_STREAM_HEARTBEAT_SECONDS,
    **given: Unpack[Given],
) -> AsyncIterator[Services]:
    """The services over the adapters the settings choose (except those given), running.

    Secrets are resolved first, as the use cases need some of them too (the internal API key).
    """
    settings = await resolve_secrets(settings)
    async with (
        open_adapters(settings, **given) as adapters,
        build(
            adapters,
            delivery=settings.delivery,
            sweep_interval=settings.storage.leftover_sweep_interval,
            upload_session_ttl=settings.storage.upload_session_ttl,
            upload_max_size=settings.storage.upload_max_size,
            jobs=settings.jobs,
            event_stream_heartbeat=event_stream_heartbeat,
        ).running() as services,
    ):
        yield services


def create_app(
    settings: Settings,
    *,
    event_stream_heartbeat: float = EVENT_STREAM_HEARTBEAT_SECONDS,
    **given: Unpack[Given],
) -> web.Application:
    """The HTTP application over `open_services`, opened on start-up and closed on clean-up.

    Each application counts its own metrics (served at `/metrics`).
    """
    metrics = given.get("metrics") or PrometheusMetrics()
    with_metrics: Given = {**given, "metrics": metrics}
    return create_http_app(
        lambda: open_services(
            settings, event_stream_heartbeat=event_stream_heartbeat, **with_metrics
        ),
        local_users=settings.identity.auth,
        frontend_url=settings.server.frontend_url,
        access_info=AccessInfo(
            settings.identity.cognito_user_pool_id,
            settings.identity.cognito_client_id,
            settings.identity.cognito_region,
        ),
        counters=metrics,
    )


async def migrate(settings: Settings) -> None:
    """Bring the database schema up to date: opening the database applies what is pending."""
    settings = await resolve_secrets(settings)
    async with AsyncExitStack() as stack:
        await _database(stack, settings)


async def _database(stack: AsyncExitStack, settings: Settings) -> Database:
    """The database, open until `stack` closes; one that cannot be opened names DATABASE_URL."""
    try:
        return await stack.enter_async_context(
            open_database(
                settings.database.url,
                acquire_timeout=settings.database.acquire_timeout,
                statement_timeout=settings.database.statement_timeout,
            )
        )
    except DatabaseUnavailable as err:
        raise SettingsError("DATABASE_URL", str(err)) from err


async def _event_signal(
    stack: AsyncExitStack, database: Database, settings: Settings
) -> LocalEventSignal:
    """The signal of new events: told after each commit on SQLite (one process holds the
    database), through LISTEN/NOTIFY on PostgreSQL (events of every instance)."""
    signal = LocalEventSignal()
    if settings.database.engine == "sqlite":
        database.jobs.on_events_committed(signal.notify)
    else:
        await stack.enter_async_context(listening(settings.database.url, signal))
    return signal


async def _identity(
    stack: AsyncExitStack, settings: IdentitySettings, database: Database, clock: Clock
) -> Identity:
    if settings.provider == "cognito":
        return await stack.enter_async_context(
            open_cognito_identity(cognito_pool_of(settings), clock)
        )
    return await open_local_identity(
        database.users,
        database.signing_keys,
        issuer=settings.local_token_issuer,
        audience=settings.cognito_client_id or DEFAULT_AUDIENCE,
        token_lifetime=settings.local_token_lifetime,
        clock=clock,
    )


def cognito_pool_of(settings: IdentitySettings) -> CognitoPool:
    """The pool of AUTH_PROVIDER=cognito; secrets must already be resolved."""
    return CognitoPool(
        pool_id=_required(settings.cognito_user_pool_id, "COGNITO_USER_POOL_ID"),
        client_id=_required(settings.cognito_client_id, "COGNITO_CLIENT_ID"),
        region=_required(settings.cognito_region, "COGNITO_REGION"),
        jwks_url=_required(settings.cognito_jwks_url, "COGNITO_JWKS_URL"),
        issuer=_required(settings.cognito_issuer, "COGNITO_ISSUER"),
        client_secret=settings.cognito_secret,
    )


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise SettingsError(variable, "required when AUTH_PROVIDER=cognito")
    return value


async def _storages(
    stack: AsyncExitStack, settings: StorageSettings, given: FileStorage | None
) -> tuple[FileStorage, UploadStorage]:
    """Users' files (unless given) and upload sessions on the configured medium, ready."""
    if settings.filesystem == "s3":
        assert settings.s3_bucket is not None, "load_settings requires S3_BUCKET for s3"
        client = await stack.enter_async_context(open_s3_client(settings.s3_region))
        prefix = settings.user_data_root_path
        s3_files = given or S3FileStorage(client, settings.s3_bucket, prefix)
        return s3_files, S3UploadStorage(client, settings.s3_bucket, prefix, s3_files)
    root = _local_root(settings)
    if given is not None and not isinstance(given, LocalFileStorage):
        raise TypeError("A storage on the local disk is needed where FILESYSTEM is local")
    local_files = given or await LocalFileStorage.create(root)
    return local_files, await LocalUploadStorage.create(local_files, root)


def _local_root(settings: StorageSettings) -> Path:
    return Path(settings.user_data_root_path).resolve()


async def _catalogue(stack: AsyncExitStack, settings: Settings) -> ReloadingCatalogue:
    source = settings.catalogue.application_config_file
    try:
        if source.startswith("s3://"):
            return await stack.enter_async_context(
                open_s3_catalogue(source, settings.storage.s3_region)
            )
        return await YamlFileCatalogue.load(Path(source))
    except CatalogueUnreadable as err:
        raise SettingsError("APPLICATION_CONFIG_FILE", str(err)) from None
    except InvalidCatalogue as err:
        raise SettingsError("APPLICATION_CONFIG_FILE", f"{source}: {err}") from None


async def _worker_queue(stack: AsyncExitStack, settings: DeliverySettings) -> WorkerQueue | None:
    if settings.workerfacing_api_url is None:
        logger.warning(
            "WORKERFACING_API_URL is not set: accepted jobs wait in the outbox until it is"
        )
        return None
    session = await stack.enter_async_context(
        open_worker_api_session(settings.connect_timeout, settings.read_timeout)
    )
    return WorkerApiQueue(session, settings.workerfacing_api_url, settings.internal_api_key_secret)


async def _notifier(
    stack: AsyncExitStack, settings: EmailSettings, frontend_url: str | None
) -> Notifier:
    if settings.service != "mailjet":
        return NullNotifier()
    assert settings.api_key is not None, "load_settings requires it for mailjet"
    assert settings.secret_key is not None, "load_settings requires it for mailjet"
    assert settings.sender_address is not None, "load_settings requires it for mailjet"
    session = await stack.enter_async_context(
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=MAILJET_TIMEOUT_SECONDS))
    )
    return MailjetNotifier(
        session,
        settings.api_key,
        settings.secret_key,
        settings.sender_address,
        base_url=settings.mailjet_api_url,
        frontend_url=frontend_url,
    )
