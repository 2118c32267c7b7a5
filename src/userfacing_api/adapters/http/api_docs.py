"""The API description served at `/docs/swagger.json` and the Swagger UI page at `/docs`.

aiohttp-apispec builds a Swagger 2.0 document from the handlers' declarations;
here it is finished once, on start-up, with what holds for every operation
alike, so that handlers declare only what is their own:

- one operation per method (aiohttp's implicit HEAD twin of each GET is left out),
  with the handler's name as a stable `operationId`;
- no padlock on public endpoints (`security: []`), the user token everywhere else;
- the error answers every operation can give (401/403 behind a token, 422 in the
  list shape wherever the request carries values, 413 where a body is read whole);
- request bodies marked required.

Swagger 2.0 has no bearer scheme, so the page adds the `Bearer ` prefix itself
when the token pasted into "Authorize" lacks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp_apispec
from aiohttp import web
from aiohttp_apispec import AiohttpApiSpec
from aiohttp_apispec.utils import get_path

from userfacing_api.adapters.http.errors import raise_validation_error
from userfacing_api.adapters.http.public import is_public
from userfacing_api.adapters.http.schemas.common import ErrorSchema, ValidationErrorSchema

DOCS_PATH = "/docs"
SPEC_PATH = "/docs/swagger.json"
STATIC_PATH = "/static/swagger"
RAW_SCHEMA = "x-raw-schema"
"""A response declared with this key instead of `schema` carries a plain JSON schema
(for bodies marshmallow cannot describe, such as a bare string or a free mapping)."""

USER_TOKEN = "bearer"  # noqa: S105 (the name of a security scheme)
INTERNAL_KEY = "internal"

TITLE = "DECODE OpenCloud User-facing API"
DESCRIPTION = """\
Upload microscopy data and configurations, start analysis jobs, follow them and \
download their results.

**Authorising.** Every endpoint with a padlock needs an id token:

1. Get one: with `AUTH=1`, register with `POST /user` and call `POST /token` with the \
same `username` and `password` (try them out below); the answer's `id_token` is the \
token. In a Cognito deployment, log in against the pool that `GET /access_info` names \
and take the `IdToken`.
2. Click **Authorize**, paste the token into `bearer` (with or without `Bearer ` in \
front) and confirm.

A 422 answer has a list `detail`, one entry per faulty value: \
`[{"loc": ["body", "priority"], "msg": "...", "type": "value_error"}]`; every other \
error has a text `detail`.
"""
TAGS = [
    {"name": "Authentication", "description": "How to log in, and who is calling"},
    {"name": "Files", "description": "Your private tree: config/, data/, artifact/, output/, log/"},
    {"name": "Jobs", "description": "The application catalogue, and your jobs"},
    {"name": "Misc", "description": "Welcome, liveness and readiness"},
    {
        "name": "Internal",
        "description": "Called by the worker-facing API with its key, not by users",
    },
]
SECURITY_DEFINITIONS = {
    USER_TOKEN: {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "The id token from `POST /token` (or Cognito); `Bearer ` is optional",
    },
    INTERNAL_KEY: {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
        "description": "INTERNAL_API_KEY_SECRET, shared with the worker-facing API",
    },
}

_ERROR = {"$ref": "#/definitions/Error"}
_VALIDATION_ERROR = {"$ref": "#/definitions/ValidationError"}
_TOKEN_ANSWERS = {
    "401": {"description": "Missing, invalid or expired token", "schema": _ERROR},
    "403": {"description": "Not a member of the `users` group", "schema": _ERROR},
}
_UNPROCESSABLE = {
    "description": "A value is not acceptable (one entry per faulty value)",
    "schema": _VALIDATION_ERROR,
}
_TOO_LARGE = {"description": "The body is larger than the service accepts", "schema": _ERROR}
_SWAGGER_UI_FILES = Path(aiohttp_apispec.__file__).parent / "static"


def setup_api_docs(app: web.Application, version: str) -> None:
    """Serve the description of every route added so far, and the Swagger UI page."""
    api_spec = AiohttpApiSpec(
        url=SPEC_PATH,
        error_callback=raise_validation_error,
        title=TITLE,
        version=version,
        info={"description": DESCRIPTION},
        securityDefinitions=SECURITY_DEFINITIONS,
        security=[{USER_TOKEN: []}],
    )
    for tag in TAGS:
        api_spec.spec.tag(tag)
    api_spec.spec.components.schema("Error", schema=ErrorSchema)
    api_spec.spec.components.schema("ValidationError", schema=ValidationErrorSchema)
    api_spec.register(app)

    async def finish(app: web.Application) -> None:
        finish_spec(app["swagger_dict"], _handlers(app))

    app.on_startup.append(finish)
    app.router.add_static(STATIC_PATH, _SWAGGER_UI_FILES)
    app.router.add_get(DOCS_PATH, swagger_ui_page, allow_head=False)


def finish_spec(spec: dict[str, Any], handlers: Mapping[tuple[str, str], Any]) -> None:
    """Complete every operation of `spec` in place; see the module's docstring."""
    for path, operations in spec["paths"].items():
        operations.pop("head", None)
        for method, operation in operations.items():
            _finish_operation(operation, handlers[(path, method)])


def _finish_operation(operation: dict[str, Any], handler: Any) -> None:
    operation["operationId"] = handler.__name__
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for answer in responses.values():
        if RAW_SCHEMA in answer:
            answer["schema"] = answer.pop(RAW_SCHEMA)
    if is_public(handler):
        operation.setdefault("security", [])
    else:
        for status, answer in _TOKEN_ANSWERS.items():
            responses.setdefault(status, dict(answer))
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if parameter["in"] == "body":
            parameter["required"] = True
    if parameters:
        declared = responses.get("422", _UNPROCESSABLE)
        responses["422"] = {**_UNPROCESSABLE, "description": declared["description"]}
    if any(_read_whole(parameter) for parameter in parameters):
        responses.setdefault("413", dict(_TOO_LARGE))


def _read_whole(parameter: Mapping[str, Any]) -> bool:
    """A JSON body or a form of plain fields, which are read whole and capped in size."""
    return parameter["in"] == "body" or (
        parameter["in"] == "formData" and parameter.get("type") != "file"
    )


def _handlers(app: web.Application) -> dict[tuple[str, str], Any]:
    """The handler of each documented (path template, method)."""
    return {
        (get_path(route), route.method.lower()): route.handler
        for route in app.router.routes()
        if hasattr(route.handler, "__apispec__") and route.method != "HEAD"
    }


async def swagger_ui_page(request: web.Request) -> web.Response:
    return web.Response(text=SWAGGER_UI_PAGE, content_type="text/html")


SWAGGER_UI_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{TITLE}</title>
  <link rel="stylesheet" type="text/css" href="{STATIC_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{STATIC_PATH}/favicon-32x32.png" sizes="32x32">
  <style>html {{ box-sizing: border-box; overflow-y: scroll; }} body {{ margin: 0; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{STATIC_PATH}/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="{STATIC_PATH}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    // "Authorize" takes the raw id token: the API wants "Bearer <token>".
    function withBearer(request) {{
      const headers = request.headers || {{}};
      const name = Object.keys(headers)
        .find((header) => header.toLowerCase() === "authorization");
      const value = name && String(headers[name]).trim();
      if (value && !/^bearer\\s/i.test(value)) {{
        request.headers[name] = "Bearer " + value;
      }}
      return request;
    }}
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: "{SPEC_PATH}",
        dom_id: "#swagger-ui",
        deepLinking: true,
        persistAuthorization: true,
        requestInterceptor: withBearer,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout",
      }});
    }};
  </script>
</body>
</html>
"""
