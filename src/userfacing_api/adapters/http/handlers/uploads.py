"""Upload sessions: files of any size sent as numbered parts, resumable after a failure."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apispec import docs, json_schema, match_info_schema, response_schema
from marshmallow import Schema, fields, validate

from userfacing_api.adapters.http.app_keys import caller_id, services
from userfacing_api.adapters.http.body import body_chunks
from userfacing_api.adapters.http.handlers.files import (
    FILE_INFO_SCHEMA,
    FILE_REQUEST_SCHEMA,
    STORAGE_FULL,
)
from userfacing_api.adapters.http.own_requests import through_this_api
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.adapters.http.schemas.files import FileHTTPRequestSchema, FileInfoSchema
from userfacing_api.adapters.http.schemas.uploads import UploadCreateSchema, UploadSchema

routes = web.RouteTableDef()

TAGS = ["Uploads"]
PART_ROUTE = "uploads-part"
NOT_FOUND = {"description": "No such open session among yours", "schema": ErrorSchema()}
UPLOAD_SCHEMA = UploadSchema()
UPLOADS_SCHEMA = UploadSchema(many=True)


class UploadIdSchema(Schema):
    upload_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{32}$"),
        metadata={"description": "As POST /uploads answered it (32 hexadecimal digits)"},
    )


class PartSchema(UploadIdSchema):
    number = fields.Integer(required=True, validate=validate.Range(min=1))


@routes.post("/uploads")
@docs(
    tags=TAGS,
    summary="Start an upload session for one file of any size",
    description=(
        "The service chooses the part size; send each part to the request of "
        "POST /uploads/{upload_id}/parts/{number}, then POST /uploads/{upload_id}/complete."
    ),
    responses={
        409: {"description": "A folder is at this path", "schema": ErrorSchema()},
        413: {"description": "The file is larger than allowed", "schema": ErrorSchema()},
    },
)
@json_schema(UploadCreateSchema())
@response_schema(UploadSchema(), 201)
async def create_upload(request: web.Request) -> web.Response:
    body = request["json"]
    progress = await services(request).uploads.create(
        caller_id(request), body["path"], body["size"]
    )
    return web.json_response(UPLOAD_SCHEMA.dump(progress), status=201)


@routes.get("/uploads")
@docs(tags=TAGS, summary="Your open upload sessions, oldest first")
@response_schema(UploadSchema(many=True), 200)
async def list_uploads(request: web.Request) -> web.Response:
    sessions = await services(request).uploads.list(caller_id(request))
    return web.json_response(UPLOADS_SCHEMA.dump(sessions))


@routes.get("/uploads/{upload_id}")
@docs(
    tags=TAGS,
    summary="A session with the parts already stored (how a client resumes)",
    responses={404: NOT_FOUND},
)
@match_info_schema(UploadIdSchema())
@response_schema(UploadSchema(), 200)
async def get_upload(request: web.Request) -> web.Response:
    progress = await services(request).uploads.get(
        caller_id(request), request["match_info"]["upload_id"]
    )
    return web.json_response(UPLOAD_SCHEMA.dump(progress))


@routes.post("/uploads/{upload_id}/parts/{number}")
@docs(
    tags=TAGS,
    summary="A request that stores part {number} (1-based)",
    description=(
        "Every part is part_size bytes except the last. On S3 a presigned UploadPart URL "
        "(10 min) that refuses any other length; on local storage this API's own URL."
    ),
    responses={404: NOT_FOUND},
)
@match_info_schema(PartSchema())
@response_schema(FileHTTPRequestSchema(), 200)
async def part_request(request: web.Request) -> web.Response:
    match = request["match_info"]
    session, direct = await services(request).uploads.part_request(
        caller_id(request), match["upload_id"], match["number"]
    )
    if direct is None:
        own_url = request.app.router[PART_ROUTE].url_for(
            upload_id=session.upload_id, number=str(match["number"])
        )
        direct = through_this_api(request, "put", own_url)
    return web.json_response(FILE_REQUEST_SCHEMA.dump(direct))


@routes.put("/uploads/{upload_id}/parts/{number}", name=PART_ROUTE)
@docs(
    tags=TAGS,
    summary="Store part {number} (local storage); the body is the part's bytes",
    consumes=["application/octet-stream"],
    responses={
        204: {"description": "Stored"},
        400: {"description": "The part does not have its exact length", "schema": ErrorSchema()},
        404: NOT_FOUND,
        409: {
            "description": "The part is being stored by another request, or the session"
            " is being completed",
            "schema": ErrorSchema(),
        },
        507: STORAGE_FULL,
    },
)
@match_info_schema(PartSchema())
async def put_part(request: web.Request) -> web.Response:
    match = request["match_info"]
    await services(request).uploads.write_part(
        caller_id(request),
        match["upload_id"],
        match["number"],
        body_chunks(request),
        request.content_length,
    )
    return web.Response(status=204)


@routes.post("/uploads/{upload_id}/complete")
@docs(
    tags=TAGS,
    summary="Assemble the file from its parts; repeating it answers the same",
    responses={
        404: NOT_FOUND,
        409: {
            "description": "Parts are missing (listed) or still being stored",
            "schema": ErrorSchema(),
        },
    },
)
@match_info_schema(UploadIdSchema())
@response_schema(FileInfoSchema(), 201)
async def complete_upload(request: web.Request) -> web.Response:
    info = await services(request).uploads.complete(
        caller_id(request), request["match_info"]["upload_id"]
    )
    return web.json_response(FILE_INFO_SCHEMA.dump(info), status=201)


@routes.delete("/uploads/{upload_id}")
@docs(
    tags=TAGS,
    summary="Abandon a session; its stored parts are discarded",
    responses={204: {"description": "Discarded"}, 404: NOT_FOUND},
)
@match_info_schema(UploadIdSchema())
async def delete_upload(request: web.Request) -> web.Response:
    await services(request).uploads.delete(caller_id(request), request["match_info"]["upload_id"])
    return web.Response(status=204)
