"""Counting every request by method, route template and status, with its duration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from userfacing_api.adapters.metrics.prometheus import PrometheusMetrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The route label of requests that match no route: their paths are never labels.
UNMATCHED = "unmatched"


def request_metrics_middleware(metrics: PrometheusMetrics) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        started = loop.time()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.request_answered(
                request.method, route_template(request), status, loop.time() - started
            )

    return middleware


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical
