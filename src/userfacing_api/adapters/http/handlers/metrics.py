"""`GET /metrics`: this instance's metrics for Prometheus to scrape."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp_apispec import docs

from userfacing_api.adapters.http.app_keys import METRICS, services
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.metrics.prometheus import CONTENT_TYPE
from userfacing_api.domain.errors import Unavailable

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()


@routes.get("/metrics")
@docs(
    tags=["Misc"],
    summary="Metrics of this instance in the Prometheus text format",
    produces=["text/plain"],
    responses={200: {"description": "Requests, job statuses, deliveries, outbox, bytes moved"}},
)
@public
async def metrics(request: web.Request) -> web.Response:
    """The outbox gauges are read now; without a database they keep their last values."""
    counters = request.app[METRICS]
    try:
        backlog = await services(request).jobs.outbox_backlog()
    except Unavailable:
        logger.warning("metrics: the outbox cannot be read now")
    else:
        counters.outbox_observed(backlog.pending, backlog.oldest_wait_seconds)
    return web.Response(body=counters.render(), headers={"Content-Type": CONTENT_TYPE})
