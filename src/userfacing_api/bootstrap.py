"""Composition root: the only module that knows which adapter serves which port."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from userfacing_api.adapters.catalogue.s3 import open_s3_catalogue
from userfacing_api.adapters.catalogue.yaml_file import YamlFileCatalogue
from userfacing_api.adapters.clock import SystemClock
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.db.stores import Database
from userfacing_api.adapters.http.app import create_http_app
from userfacing_api.adapters.http.app_keys import AccessInfo
from userfacing_api.adapters.identity.cognito import CognitoPool, open_cognito_identity
from userfacing_api.adapters.identity.local import DEFAULT_AUDIENCE, open_local_identity
from userfacing_api.adapters.mailjet import MailjetNotifier
from userfacing_api.adapters.null_notifier import NullNotifier
from userfacing_api.adapters.storage.local import LocalFileStorage
from userfacing_api.adapters.storage.s3 import open_s3_storage
from userfacing_api.adapters.worker_api import WorkerApiQueue, open_worker_api_session
from userfacing_api.domain.applications import InvalidCatalogue
from userfacing_api.domain.delivery import RetryPolicy
from userfacing_api.ports.catalogue import ApplicationCatalogue, CatalogueUnreadable
from userfacing_api.ports.database import DatabaseUnavailable
from userfacing_api.ports.jobs import JobStore
from userfacing_api.ports.notifier import Notifier
from userfacing_api.ports.storage import FileStorage
from userfacing_api.ports.worker_queue import WorkerQueue
from userfacing_api.service_layer.background import BackgroundTasks
from userfacing_api.service_layer.container import Services
from userfacing_api.service_layer.delivery import JobDeliveries
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher, DispatcherRunner
from userfacing_api.service_layer.files import FileService
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.jobs import JobService
from userfacing_api.service_layer.notifications import JobEndNotifications
from userfacing_api.service_layer.readiness import ReadinessService
from userfacing_api.settings import Settings, SettingsError
from userfacing_api.settings_secrets import resolve_secrets

logger = logging.getLogger("userfacing_api")

MAILJET_TIMEOUT_SECONDS = 30.0


def create_app(
    settings: Settings,
    *,
    worker_queue: WorkerQueue | None = None,
    notifier: Notifier | None = None,
) -> web.Application:
    """The application wired to the adapters the settings choose.

    `worker_queue` and `notifier`, when given, replace the adapters the settings
    would choose for them.
    """
    return create_http_app(
        lambda: open_services(settings, worker_queue=worker_queue, notifier=notifier),
        local_users=settings.identity.auth,
        frontend_url=settings.server.frontend_url,
        access_info=AccessInfo(
            settings.identity.cognito_user_pool_id,
            settings.identity.cognito_client_id,
            settings.identity.cognito_region,
        ),
    )


async def migrate(settings: Settings) -> None:
    """Bring the database schema up to date: opening the database applies what is pending."""
    settings = await resolve_secrets(settings)
    async with AsyncExitStack() as stack:
        await _database(stack, settings)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    worker_queue: WorkerQueue | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[Services]:
    """Open every adapter and assemble the use cases; close them all on exit.

    An unusable application catalogue raises `SettingsError` naming
    APPLICATION_CONFIG_FILE and the fault.
    """
    settings = await resolve_secrets(settings)
    async with AsyncExitStack() as stack:
        catalogue = await _catalogue(stack, settings)
        database = await _database(stack, settings)
        storage = await stack.enter_async_context(_storage(settings))
        if settings.identity.provider == "cognito":
            verifier, provider = await stack.enter_async_context(
                open_cognito_identity(cognito_pool_of(settings), SystemClock())
            )
        else:
            verifier, provider = await open_local_identity(
                database.users,
                database.signing_keys,
                issuer=settings.identity.local_token_issuer,
                audience=settings.identity.cognito_client_id or DEFAULT_AUDIENCE,
                token_lifetime=settings.identity.local_token_lifetime,
            )
        job_store = database.jobs
        jobs, job_status = await _open_job_services(
            stack, settings, job_store, storage, catalogue, worker_queue, notifier
        )
        yield Services(
            files=FileService(storage),
            token_verifier=verifier,
            identity_provider=provider if settings.identity.auth else None,
            jobs=jobs,
            job_status=job_status,
            readiness=ReadinessService({"database": job_store.ping, "file storage": storage.ping}),
        )


async def _database(stack: AsyncExitStack, settings: Settings) -> Database:
    """The database, open until `stack` closes; one that cannot be opened names DATABASE_URL."""
    try:
        return await stack.enter_async_context(open_database(settings.database.url))
    except DatabaseUnavailable as err:
        raise SettingsError("DATABASE_URL", str(err)) from err


def cognito_pool_of(settings: Settings) -> CognitoPool:
    """The pool of AUTH_PROVIDER=cognito; secrets must already be resolved."""
    return CognitoPool(
        pool_id=_required(settings.identity.cognito_user_pool_id, "COGNITO_USER_POOL_ID"),
        client_id=_required(settings.identity.cognito_client_id, "COGNITO_CLIENT_ID"),
        region=_required(settings.identity.cognito_region, "COGNITO_REGION"),
        jwks_url=_required(settings.identity.cognito_jwks_url, "COGNITO_JWKS_URL"),
        issuer=_required(settings.identity.cognito_issuer, "COGNITO_ISSUER"),
        client_secret=settings.identity.cognito_secret,
    )


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise SettingsError(variable, "required when AUTH_PROVIDER=cognito")
    return value


def _storage(settings: Settings) -> AbstractAsyncContextManager[FileStorage]:
    if settings.storage.filesystem == "s3":
        assert settings.storage.s3_bucket is not None, "load_settings requires S3_BUCKET for s3"
        return open_s3_storage(
            settings.storage.s3_bucket,
            settings.storage.s3_region,
            settings.storage.user_data_root_path,
        )
    return _local_storage(Path(settings.storage.user_data_root_path).resolve())


@asynccontextmanager
async def _local_storage(root: Path) -> AsyncIterator[FileStorage]:
    """The local storage, its root folder created so that it is ready from the start."""
    yield await LocalFileStorage.create(root)


async def _catalogue(stack: AsyncExitStack, settings: Settings) -> ApplicationCatalogue:
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


async def _open_job_services(
    stack: AsyncExitStack,
    settings: Settings,
    store: JobStore,
    storage: FileStorage,
    catalogue: ApplicationCatalogue,
    worker_queue: WorkerQueue | None,
    notifier: Notifier | None,
) -> tuple[JobService, JobStatusService]:
    """The job use cases, with the delivery dispatcher running when there is a worker side.

    On exit the dispatcher stops first, then background notices get to finish.
    """
    clock = SystemClock()
    tasks = BackgroundTasks()
    notifications = JobEndNotifications(notifier or await _notifier(stack, settings), tasks)
    stack.push_async_callback(tasks.close)
    queue = worker_queue or await _worker_queue(stack, settings)
    deliveries = None
    wake_dispatcher = _nothing
    if queue is None:
        logger.warning(
            "WORKERFACING_API_URL is not set: accepted jobs wait in the outbox until it is"
        )
    else:
        deliveries = JobDeliveries(
            store,
            queue,
            clock,
            notifications,
            deadline=timedelta(seconds=settings.delivery.deadline),
            retry=RetryPolicy(max_delay=settings.delivery.retry_cap),
        )
        runner = DispatcherRunner(
            DeliveryDispatcher(store, deliveries, clock),
            clock,
            settings.delivery.poll_interval,
        )
        await stack.enter_async_context(runner.running())
        wake_dispatcher = runner.wake
    jobs = JobService(store, storage, catalogue, clock, deliveries, wake_dispatcher)
    job_status = JobStatusService(
        store, clock, notifications, settings.delivery.internal_api_key_secret
    )
    return jobs, job_status


async def _worker_queue(stack: AsyncExitStack, settings: Settings) -> WorkerQueue | None:
    if settings.delivery.workerfacing_api_url is None:
        return None
    session = await stack.enter_async_context(open_worker_api_session())
    return WorkerApiQueue(
        session, settings.delivery.workerfacing_api_url, settings.delivery.internal_api_key_secret
    )


async def _notifier(stack: AsyncExitStack, settings: Settings) -> Notifier:
    if settings.email.service != "mailjet":
        return NullNotifier()
    assert settings.email.api_key is not None, "load_settings requires it for mailjet"
    assert settings.email.secret_key is not None, "load_settings requires it for mailjet"
    assert settings.email.sender_address is not None, "load_settings requires it for mailjet"
    session = await stack.enter_async_context(
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=MAILJET_TIMEOUT_SECONDS))
    )
    return MailjetNotifier(
        session,
        settings.email.api_key,
        settings.email.secret_key,
        settings.email.sender_address,
        base_url=settings.email.mailjet_api_url,
        frontend_url=settings.server.frontend_url,
    )


def _nothing() -> None:
    """Waking a dispatcher that does not run."""
