"""Typed keys of everything the HTTP adapter keeps on the application and requests."""

from __future__ import annotations

from aiohttp import web

from userfacing_api.domain.identity import Principal
from userfacing_api.service_layer.container import Services
from userfacing_api.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)

# Request-scoped values.
PRINCIPAL = web.RequestKey("userfacing_api.principal", Principal)
REQUEST_ID = web.RequestKey("userfacing_api.request_id", str)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def principal(request: web.Request) -> Principal:
    """The authenticated caller; set by the auth middleware on every protected route."""
    value = request[PRINCIPAL]
    assert isinstance(value, Principal)
    return value
