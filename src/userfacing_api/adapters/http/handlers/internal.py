"""The endpoint through which the worker-facing API reports job statuses."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import docs, json_schema

from userfacing_api.adapters.http.app_keys import services
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.adapters.http.schemas.internal import STATUSES, JobStatusUpdateSchema
from userfacing_api.domain.jobs import JobStatus

routes = web.RouteTableDef()

API_KEY_HEADER = "x-api-key"


@routes.put("/_job_status")
@docs(
    tags=["Internal"],
    summary="Report a job's status (worker-facing API only)",
    description=f"Requires the `{API_KEY_HEADER}` header; no user token.",
    security=[{"internal": []}],
    responses={
        200: {"description": f"The recorded status as a JSON string: {', '.join(STATUSES)}"},
        401: {"description": "Missing or wrong API key", "schema": ErrorSchema()},
        404: {"description": "No such job (it may have been deleted)", "schema": ErrorSchema()},
    },
)
@json_schema(JobStatusUpdateSchema())
@public
async def update_job_status(request: web.Request) -> web.Response:
    job_status = services(request).job_status
    job_status.authorise(request.headers.get(API_KEY_HEADER))
    update = request["json"]
    status = await job_status.update(
        update["job_id"], JobStatus(update["status"]), update["runtime_details"]
    )
    return web.json_response(status.value)
