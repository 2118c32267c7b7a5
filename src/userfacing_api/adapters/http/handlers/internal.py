"""The endpoint through which the worker-facing API reports job statuses."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import docs, json_schema

from userfacing_api.adapters.http.api_docs import INTERNAL_KEY, RAW_SCHEMA
from userfacing_api.adapters.http.app_keys import services
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.http.responses import json_response
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
    security=[{INTERNAL_KEY: []}],
    responses={
        200: {
            "description": "The recorded status as a JSON string",
            RAW_SCHEMA: {"type": "string", "enum": STATUSES},
        },
        401: {"description": "Missing or wrong API key", "schema": ErrorSchema()},
        404: {"description": "No such job (it may have been deleted)", "schema": ErrorSchema()},
    },
)
@json_schema(
    JobStatusUpdateSchema(),
    example={"job_id": 1, "status": "running", "runtime_details": "epoch 3 of 20"},
    add_to_refs=True,
)
@public
async def update_job_status(request: web.Request) -> web.Response:
    job_status = services(request).job_status
    job_status.authorise(request.headers.get(API_KEY_HEADER))
    update = request["json"]
    status = await job_status.update(
        update["job_id"], JobStatus(update["status"]), update["runtime_details"]
    )
    return json_response(status.value)
