"""Jobs: the application catalogue, and starting, listing, reading and deleting jobs."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import (
    docs,
    json_schema,
    match_info_schema,
    querystring_schema,
    response_schema,
)

from userfacing_api.adapters.http.api_docs import RAW_SCHEMA
from userfacing_api.adapters.http.app_keys import caller_id, principal, services
from userfacing_api.adapters.http.conditional import json_bytes_with_etag
from userfacing_api.adapters.http.job_json import encoded_job, encoded_listing
from userfacing_api.adapters.http.responses import json_response
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.adapters.http.schemas.jobs import (
    JobCreateSchema,
    JobIdSchema,
    JobListQuerySchema,
    JobSchema,
    job_document,
)
from userfacing_api.domain.jobs import JobSpec

routes = web.RouteTableDef()

TAGS = ["Jobs"]
NOT_FOUND = {"description": "No such job among yours", "schema": ErrorSchema()}
NOT_MODIFIED = {"description": "Unchanged since the `ETag` given in `If-None-Match`"}
CATALOGUE_SCHEMA = {
    "type": "object",
    "description": "Applications by name",
    "additionalProperties": {
        "type": "object",
        "description": "Versions by name",
        "additionalProperties": {
            "type": "object",
            "description": "Entrypoints by name",
            "additionalProperties": {
                "type": "object",
                "description": "How the entrypoint runs: app (cmd, env), handler "
                "(image_url, files_down, files_up), aws_resources",
            },
        },
    },
}
JOB_EXAMPLE = {
    "job_name": "beads-train",
    "environment": None,
    "priority": 1,
    "application": {"application": "decode", "version": "v0_10_1", "entrypoint": "train"},
    "attributes": {
        "files_down": {"config_id": "exp1", "data_ids": ["exp1"], "artifact_ids": []},
        "env_vars": {},
    },
    "hardware": None,
}
"""Runs once `config/exp1/` and `data/exp1/` hold files (as in the README's walk-through)."""


@routes.get("/jobs/applications")
@docs(
    tags=TAGS,
    summary="The application catalogue",
    responses={
        200: {
            "description": "{application: {version: {entrypoint: {...}}}} as configured",
            RAW_SCHEMA: CATALOGUE_SCHEMA,
        }
    },
)
async def list_applications(request: web.Request) -> web.Response:
    return json_response(dict(await services(request).jobs.applications()))


@routes.post("/jobs")
@docs(
    tags=TAGS,
    summary="Start a job",
    responses={
        400: {"description": "An input does not exist", "schema": ErrorSchema()},
        409: {"description": "You already have a job of this name", "schema": ErrorSchema()},
        429: {
            "description": "You have as many active jobs as USER_ACTIVE_JOBS_LIMIT allows",
            "schema": ErrorSchema(),
        },
        422: {
            "description": "Unknown application, forbidden env var, bad priority or path",
            "schema": ErrorSchema(),
        },
        502: {"description": "The worker-facing API rejected the job", "schema": ErrorSchema()},
    },
)
@json_schema(JobCreateSchema(), example=JOB_EXAMPLE, add_to_refs=True)
@response_schema(JobSchema(), 201)
async def create_job(request: web.Request) -> web.Response:
    spec = request["json"]
    assert isinstance(spec, JobSpec)
    job = await services(request).jobs.create(principal(request), spec)
    return json_response(job_document(job), status=201)


@routes.get("/jobs")
@docs(
    tags=TAGS,
    summary="Your jobs, newest first, optionally filtered",
    description="Carries an `ETag`; `If-None-Match` with it answers 304 while nothing changed.",
    responses={
        304: NOT_MODIFIED,
        422: {"description": "Unknown status or bad offset/limit", "schema": ErrorSchema()},
    },
)
@querystring_schema(JobListQuerySchema())
@response_schema(JobSchema(many=True), 200)
async def list_jobs(request: web.Request) -> web.Response:
    query = request["querystring"]
    jobs = await services(request).jobs.list_jobs(
        caller_id(request), query["offset"], query["limit"], query["only"]
    )
    return json_bytes_with_etag(request, *encoded_listing(jobs))


@routes.get("/jobs/{job_id}")
@docs(
    tags=TAGS,
    summary="Describe a job",
    description="Carries an `ETag`; `If-None-Match` with it answers 304 while nothing changed.",
    responses={304: NOT_MODIFIED, 404: NOT_FOUND},
)
@match_info_schema(JobIdSchema())
@response_schema(JobSchema(), 200)
async def get_job(request: web.Request) -> web.Response:
    job_id = request["match_info"]["job_id"]
    job = await services(request).jobs.get(caller_id(request), job_id)
    encoded = encoded_job(job)
    return json_bytes_with_etag(request, encoded.body, encoded.etag)


@routes.post("/jobs/{job_id}/cancel")
@docs(
    tags=TAGS,
    summary="Cancel a job, keeping it and its folders",
    description=(
        "A job not yet handed to the workers is never handed to them; the workers' next"
        " report on a running one is refused, which makes them stop it."
    ),
    responses={
        404: NOT_FOUND,
        409: {
            "description": "The job is already finished, error or cancelled",
            "schema": ErrorSchema(),
        },
    },
)
@match_info_schema(JobIdSchema())
@response_schema(JobSchema(), 200)
async def cancel_job(request: web.Request) -> web.Response:
    job_id = request["match_info"]["job_id"]
    job = await services(request).jobs.cancel(caller_id(request), job_id)
    return json_response(job_document(job))


@routes.delete("/jobs/{job_id}")
@docs(
    tags=TAGS,
    summary="Delete a job with its output/, log/ and artifact/ folders",
    responses={204: {"description": "Deleted"}, 404: NOT_FOUND},
)
@match_info_schema(JobIdSchema())
async def delete_job(request: web.Request) -> web.Response:
    job_id = request["match_info"]["job_id"]
    await services(request).jobs.delete(caller_id(request), job_id)
    return web.Response(status=204)
