"""The aiohttp application: middlewares, routes, API docs and CORS. No I/O here."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

import aiohttp_cors
from aiohttp import web

from userfacing_api.adapters.http.api_docs import setup_api_docs
from userfacing_api.adapters.http.app_keys import (
    ACCESS_INFO,
    IN_FLIGHT,
    METRICS,
    SERVICES,
    AccessInfo,
)
from userfacing_api.adapters.http.handlers import (
    auth,
    files,
    internal,
    job_events,
    jobs,
    metrics,
    misc,
    readiness,
    uploads,
)
from userfacing_api.adapters.http.in_flight import InFlightRequests
from userfacing_api.adapters.http.middleware import add_request_id_header
from userfacing_api.adapters.http.pipeline import request_pipeline
from userfacing_api.adapters.http.request_parser import install_request_parser
from userfacing_api.adapters.metrics.prometheus import PrometheusMetrics
from userfacing_api.service_layer.container import Services

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]

MAX_FORM_BYTES = 1024 * 1024
API_VERSION = "1.0"


def create_http_app(
    open_services: ServicesFactory,
    *,
    local_users: bool,
    frontend_url: str | None,
    access_info: AccessInfo,
    counters: PrometheusMetrics,
) -> web.Application:
    """Build the application; `open_services` is entered on start-up and left on clean-up.

    `local_users` adds the user management routes (AUTH=1); `frontend_url`, when
    set, is the one origin CORS lets in; `counters` are this application's own
    metrics (served at `/metrics`).
    """
    in_flight = InFlightRequests()
    app = web.Application(
        middlewares=[request_pipeline(counters, in_flight)],
        client_max_size=MAX_FORM_BYTES,
    )
    app[ACCESS_INFO] = access_info
    app[IN_FLIGHT] = in_flight
    app[METRICS] = counters
    app.on_response_prepare.append(add_request_id_header)

    async def services_context(app: web.Application) -> AsyncIterator[None]:
        async with open_services() as opened:
            app[SERVICES] = opened
            yield

    app.cleanup_ctx.append(services_context)
    # `/jobs/events` before `/jobs/{job_id}`, which would take it for a job id.
    for module in (misc, readiness, metrics, auth, files, uploads, job_events, jobs, internal):
        app.add_routes(module.routes)
    app.add_routes(auth.local_user_routes(enabled=local_users))
    _restore_api_docs(app)
    setup_api_docs(app, version=API_VERSION)
    install_request_parser(app)
    _setup_cors(app, frontend_url)
    return app


def _restore_api_docs(app: web.Application) -> None:
    """Give every handler its documentation as declared, before aiohttp-apispec reads it.

    aiohttp-apispec consumes the schemas it finds on a handler while building the
    spec, so a second application in the same process (tests build many) would
    document request bodies with references to definitions it never registered.
    """
    for route in app.router.routes():
        handler = route.handler
        if not hasattr(handler, "__apispec__"):
            continue
        original = getattr(handler, _DECLARED_DOCS, None)
        if original is None:
            original = copy.deepcopy(handler.__apispec__)
            setattr(handler, _DECLARED_DOCS, original)
        handler.__apispec__ = copy.deepcopy(original)


_DECLARED_DOCS = "__userfacing_declared_apispec__"


def _setup_cors(app: web.Application, frontend_url: str | None) -> None:
    if frontend_url is None:
        return
    # Browsers send only scheme, host and port as Origin; FRONTEND_URL may carry a path.
    parts = urlsplit(frontend_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
                allow_credentials=True, expose_headers="*", allow_headers="*", allow_methods="*"
            )
        },
    )
    for route in list(app.router.routes()):
        cors.add(route)
