"""Readiness: whether the service can serve requests now (for load balancers)."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import docs, response_schema

from userfacing_api.adapters.http.app_keys import services
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.http.schemas.common import ErrorSchema, HealthSchema

routes = web.RouteTableDef()


@routes.get("/ready")
@docs(
    tags=["Misc"],
    summary="Readiness: the database and the file storage answer",
    responses={503: {"description": "A part does not answer", "schema": ErrorSchema()}},
)
@response_schema(HealthSchema(), 200)
@public
async def ready(request: web.Request) -> web.Response:
    await services(request).readiness.check()
    return web.json_response(HealthSchema().dump({"status": "ready"}))
