"""Typed keys of everything the HTTP adapter keeps on the application and requests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from aiohttp import web

from userfacing_api.adapters.http.in_flight import InFlightRequests
from userfacing_api.adapters.metrics.prometheus import PrometheusMetrics
from userfacing_api.domain.identity import Principal, UserId
from userfacing_api.service_layer.container import Services


@dataclass(frozen=True)
class AccessInfo:
    """The Cognito pool `GET /access_info` names; all None when no pool is configured."""

    user_pool_id: str | None = None
    client_id: str | None = None
    region: str | None = None


ACCESS_INFO = web.AppKey("access_info", AccessInfo)
SERVICES = web.AppKey("services", Services)
IN_FLIGHT = web.AppKey("in_flight", InFlightRequests)
METRICS = web.AppKey("metrics", PrometheusMetrics)

# Request-scoped values.
PRINCIPAL = web.RequestKey("userfacing_api.principal", Principal)
REQUEST_ID = web.RequestKey("userfacing_api.request_id", str)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def metrics(request: web.Request) -> PrometheusMetrics:
    return request.app[METRICS]


def principal(request: web.Request) -> Principal:
    """The authenticated caller; set by the auth middleware on every protected route."""
    value = request[PRINCIPAL]
    assert isinstance(value, Principal)
    return value


def caller_id(request: web.Request) -> UserId:
    """The authenticated caller's id, checked here for the use cases that take it."""
    return _checked_user_id(principal(request).user_id)


@lru_cache(maxsize=1024)
def _checked_user_id(raw: str) -> UserId:
    """`UserId(raw)`, checked once per caller rather than on every request."""
    return UserId(raw)
