"""The one middleware every request goes through: bookkeeping, checks and error answers.

Outermost first: the request is counted (method, route template, status and
duration) and tracked while in flight, gets its request id, is authenticated
(unless its route is public) and validated by its handler's schemas; any failure
on the way becomes a JSON `{"detail": ...}` answer. One middleware rather than one
per concern, because every layer of middleware is another coroutine per request,
and on the busiest endpoints the layers cost as much as the database read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from time import monotonic

from aiohttp import web
from aiohttp.typedefs import Middleware

from userfacing_api.adapters.http.in_flight import InFlightRequests
from userfacing_api.adapters.http.middleware import (
    authenticate,
    error_answer,
    needs_token,
    tag_request,
)
from userfacing_api.adapters.http.validation import declared_schemas, validate
from userfacing_api.adapters.metrics.prometheus import PrometheusMetrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UNMATCHED = "unmatched"
"""The route label of requests that match no route: their paths are never labels."""


def request_pipeline(metrics: PrometheusMetrics, in_flight: InFlightRequests) -> Middleware:
    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = monotonic()
        status = 500
        try:
            response = in_flight.refusal()
            if response is None:
                response = await _served(request, handler, in_flight)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.request_answered(
                request.method, route_template(request), status, monotonic() - started
            )

    return pipeline


async def _served(
    request: web.Request, handler: Handler, in_flight: InFlightRequests
) -> web.StreamResponse:
    task = in_flight.enter()
    try:
        tag_request(request)
        try:
            if needs_token(request):
                await authenticate(request)
            schemas = declared_schemas(request)
            if schemas is not None:
                await validate(request, schemas)
            response = await handler(request)
        except asyncio.CancelledError:
            cut_short = in_flight.cut_short_answer(request, task)
            if cut_short is None:
                raise
            return cut_short
        except Exception as exc:  # every failure is answered, none leaks
            response = error_answer(request, exc)
    finally:
        in_flight.leave(task)
    return in_flight.finished(response)


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical
