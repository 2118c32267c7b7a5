"""Welcome and liveness endpoints."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import docs, response_schema

from userfacing_api.adapters.http.api_docs import RAW_SCHEMA
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.http.schemas.common import HealthSchema

routes = web.RouteTableDef()

WELCOME = "Welcome to the DECODE OpenCloud User-facing API"


@routes.get("/")
@docs(
    tags=["Misc"],
    summary="Welcome message",
    responses={
        200: {"description": "The welcome text", RAW_SCHEMA: {"type": "string", "example": WELCOME}}
    },
)
@public
async def welcome(request: web.Request) -> web.Response:
    return web.json_response(WELCOME)


@routes.get("/health")
@docs(tags=["Misc"], summary="Liveness: the process answers")
@response_schema(HealthSchema(), 200)
@public
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
