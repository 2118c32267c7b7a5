"""Files: the caller's private tree.

Paths contain slashes, so they are matched with `{path:.*}`; the `/download`
and `/url` routes come before the plain ones so that they win. The caller's id
becomes a `UserId` here; every path becomes a `UserPath` inside the use cases,
after aiohttp has decoded it, so percent-encoded `..` or `/` are refused like
plain ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from aiohttp_apispec import docs, json_schema, querystring_schema, response_schema
from yarl import URL

from userfacing_api.adapters.http.app_keys import caller_id, metrics, services
from userfacing_api.adapters.http.downloads import counted, send_file, send_folder
from userfacing_api.adapters.http.errors import invalid_input_at
from userfacing_api.adapters.http.multipart import file_field
from userfacing_api.adapters.http.own_requests import through_this_api
from userfacing_api.adapters.http.responses import json_response
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.adapters.http.schemas.files import (
    FileHTTPRequestSchema,
    FileInfoSchema,
    ListQuerySchema,
    RenameSchema,
    file_document,
)
from userfacing_api.domain.paths import UPLOAD_FOLDERS, UserPath

# Built once: creating a schema costs more than dumping a response with it.
FILE_INFO_SCHEMA = FileInfoSchema()
FILE_REQUEST_SCHEMA = FileHTTPRequestSchema()

routes = web.RouteTableDef()
Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])

TAGS = ["Files"]
DOWNLOAD_ROUTE = "files-download"
UPLOAD_ROUTE = "files-upload"
UPLOAD_TOP_ROUTE = "files-upload-top"
UPLOAD_FIELD = "file"
# Where the arguments of the upload use cases come from.
_UPLOAD_PLACES = {"kind": ("path", "type"), "folder": ("path", "dir")}
NOT_FOUND = {"description": "Nothing at this path", "schema": ErrorSchema()}
UPLOAD_ERRORS = {
    400: {"description": "The multipart body is malformed or cut short", "schema": ErrorSchema()},
    409: {"description": "A folder is at the file's path", "schema": ErrorSchema()},
    507: {"description": "The file storage is full", "schema": ErrorSchema()},
}
STORAGE_FULL = {"description": "The file storage is full", "schema": ErrorSchema()}
TYPE_PARAMETER = {
    "in": "path",
    "name": "type",
    "required": True,
    "type": "string",
    "enum": list(UPLOAD_FOLDERS),
}


@routes.get("/files/{path:.*}/download", name=DOWNLOAD_ROUTE)
@docs(
    tags=TAGS,
    summary="Download a file, or a folder as a zip archive",
    description=(
        "Files honour Range (one range), If-None-Match, If-Modified-Since and If-Range. "
        "A folder comes as <folder>.zip holding the files below it, paths relative to it."
    ),
    produces=["application/octet-stream", "application/zip"],
    responses={
        200: {"description": "The file's bytes, or the folder as a zip archive"},
        206: {"description": "The requested byte range"},
        304: {"description": "The client's copy is current"},
        404: NOT_FOUND,
        416: {"description": "The range lies beyond the end of the file", "schema": ErrorSchema()},
    },
)
async def download(request: web.Request) -> web.StreamResponse:
    files = services(request).files
    user_id = caller_id(request)
    info = await files.stat(user_id, request.match_info["path"])
    if info.is_dir:
        return await send_folder(request, files, user_id, info)
    return await send_file(request, files, user_id, info)


@routes.get("/files/{path:.*}/url")
@docs(tags=TAGS, summary="A request that downloads the file directly", responses={404: NOT_FOUND})
@response_schema(FileHTTPRequestSchema(), 200)
async def download_url(request: web.Request) -> web.Response:
    user_id = caller_id(request)
    raw_path = request.match_info["path"]
    direct = await services(request).files.download_request(user_id, raw_path)
    if direct is None:
        own_url = request.app.router[DOWNLOAD_ROUTE].url_for(path=UserPath(raw_path))
        direct = through_this_api(request, "get", own_url)
    return web.json_response(FILE_REQUEST_SCHEMA.dump(direct))


@routes.get("/files/{path:.*}")
@docs(
    tags=TAGS,
    summary="List a folder; /files/ lists the root",
    responses={404: {"description": "No folder at this path", "schema": ErrorSchema()}},
)
@querystring_schema(ListQuerySchema())
@response_schema(FileInfoSchema(many=True), 200)
async def list_folder(request: web.Request) -> web.Response:
    query = request["querystring"]
    entries = await services(request).files.list_folder(
        caller_id(request),
        request.match_info["path"],
        show_dirs=query["show_dirs"],
        recursive=query["recursive"],
    )
    return json_response([file_document(entry) for entry in entries])


def _upload_endpoint(summary: str) -> Callable[[Handler], Handler]:
    """What both upload routes declare: a multipart `file` in, its `FileInfo` out (201)."""

    def declare(handler: Handler) -> Handler:
        located = invalid_input_at(
            ("form", UPLOAD_FIELD), filename=("form", UPLOAD_FIELD), **_UPLOAD_PLACES
        )(handler)
        documented = docs(
            tags=TAGS,
            summary=summary,
            consumes=["multipart/form-data"],
            parameters=[
                TYPE_PARAMETER,
                {"in": "formData", "name": UPLOAD_FIELD, "type": "file", "required": True},
            ],
            responses=UPLOAD_ERRORS,
        )
        return documented(response_schema(FileInfoSchema(), 201)(located))  # type: ignore[no-any-return]

    return declare


@routes.post("/files/{type}/{dir:.*}/upload", name=UPLOAD_ROUTE)
@_upload_endpoint("Upload a file into config/, data/ or artifact/")
async def upload(request: web.Request) -> web.Response:
    uploaded = await file_field(request, UPLOAD_FIELD)
    info = await services(request).files.upload(
        caller_id(request),
        request.match_info["type"],
        request.match_info.get("dir", ""),
        uploaded.filename,
        counted(uploaded.chunks, metrics(request).bytes_uploaded),
    )
    return web.json_response(FILE_INFO_SCHEMA.dump(info), status=201)


@routes.post("/files/{type}/upload", name=UPLOAD_TOP_ROUTE)
@_upload_endpoint("Upload a file into config/, data/ or artifact/ itself")
async def upload_to_top(request: web.Request) -> web.StreamResponse:
    return await upload(request)


@routes.post("/files/{type}/{dir:.*}/url")
@docs(
    tags=TAGS,
    summary="A request that uploads files into the folder directly",
    parameters=[TYPE_PARAMETER],
)
@response_schema(FileHTTPRequestSchema(), 201)
@invalid_input_at(**_UPLOAD_PLACES)
async def upload_url(request: web.Request) -> web.Response:
    kind, folder = request.match_info["type"], request.match_info["dir"]
    direct = await services(request).files.upload_request(caller_id(request), kind, folder)
    if direct is None:
        direct = through_this_api(request, "post", _upload_url(request, kind, folder))
    return web.json_response(FILE_REQUEST_SCHEMA.dump(direct), status=201)


@routes.post("/files/{type}/{dir:.*}/")
@docs(
    tags=TAGS,
    summary="Create a folder in config/, data/ or artifact/",
    parameters=[TYPE_PARAMETER],
    responses={
        409: {"description": "A file is in the way", "schema": ErrorSchema()},
        507: STORAGE_FULL,
    },
)
@response_schema(FileInfoSchema(), 201)
@invalid_input_at(**_UPLOAD_PLACES)
async def create_folder(request: web.Request) -> web.Response:
    info = await services(request).files.create_folder(
        caller_id(request), request.match_info["type"], request.match_info["dir"]
    )
    return web.json_response(FILE_INFO_SCHEMA.dump(info), status=201)


@routes.put("/files/{path:.*}")
@docs(
    tags=TAGS,
    summary="Rename a file or an empty folder",
    description="An existing file at the new path is replaced, unless the request carries "
    "`If-None-Match: *`.",
    parameters=[
        {
            "in": "header",
            "name": "If-None-Match",
            "type": "string",
            "required": False,
            "description": "`*`: fail with 412 instead of replacing an existing file",
        }
    ],
    responses={
        404: NOT_FOUND,
        405: {"description": "A non-empty or reserved folder", "schema": ErrorSchema()},
        409: {"description": "A folder is at the new path", "schema": ErrorSchema()},
        412: {
            "description": "`If-None-Match: *` and a file is at the new path",
            "schema": ErrorSchema(),
        },
        507: STORAGE_FULL,
    },
)
@json_schema(RenameSchema(), example={"path": "data/exp1/movie.tif"}, add_to_refs=True)
@response_schema(FileInfoSchema(), 200)
@invalid_input_at(new_path=("body", "path"))
async def rename(request: web.Request) -> web.Response:
    no_clobber = request.headers.get("If-None-Match", "").strip() == "*"
    info = await services(request).files.rename(
        caller_id(request),
        request.match_info["path"],
        request["json"]["path"],
        replace=not no_clobber,
    )
    return web.json_response(FILE_INFO_SCHEMA.dump(info))


@routes.delete("/files/{path:.*}")
@docs(
    tags=TAGS,
    summary="Delete a file or folder; the five top folders are emptied instead",
    responses={204: {"description": "Deleted (or nothing was there)"}},
)
async def delete(request: web.Request) -> web.Response:
    await services(request).files.delete(caller_id(request), request.match_info["path"])
    return web.Response(status=204)


def _upload_url(request: web.Request, kind: str, folder: str) -> URL:
    """This API's upload URL for the folder, without an empty segment for a top folder."""
    path = UserPath(folder)
    if path.is_root:
        return request.app.router[UPLOAD_TOP_ROUTE].url_for(type=kind)
    return request.app.router[UPLOAD_ROUTE].url_for(type=kind, dir=path)
