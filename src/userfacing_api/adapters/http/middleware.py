"""Request id, error mapping and authentication: steps of every request (see `pipeline`)."""

from __future__ import annotations

import logging
import re

from aiohttp import web
from aiohttp.web_urldispatcher import SystemRoute

from userfacing_api.adapters.http.api_docs import DOCS_PATH, STATIC_PATH
from userfacing_api.adapters.http.app_keys import PRINCIPAL, REQUEST_ID, SERVICES
from userfacing_api.adapters.http.errors import (
    ValidationFailed,
    error_response,
    invalid_input_detail,
    plain_detail,
    status_of,
)
from userfacing_api.adapters.http.public import is_public
from userfacing_api.adapters.http.request_ids import new_request_id
from userfacing_api.domain.errors import DomainError, InvalidInput, Unauthenticated
from userfacing_api.domain.identity import require_confirmed_user

logger = logging.getLogger("userfacing_api.http")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SAFE_METHODS = ("GET", "HEAD")
DOCS_PREFIXES = (DOCS_PATH, STATIC_PATH)


def tag_request(request: web.Request) -> None:
    """Tag the request with the caller's `X-Request-ID` (if sane) or a fresh one.

    `add_request_id_header` puts it on the response once that is about to be sent.
    """
    given = request.headers.get("X-Request-ID")
    request[REQUEST_ID] = (
        given if given is not None and _SAFE_REQUEST_ID.match(given) else new_request_id()
    )


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every response carries the request id, streamed downloads and errors included."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers["X-Request-ID"] = request_id


def error_answer(request: web.Request, failure: Exception) -> web.Response:
    """The JSON `{"detail": ...}` answer to a failure, never a traceback.

    An `HTTPException` below 400 (a redirect) is no failure: it is raised again.
    """
    if isinstance(failure, InvalidInput):
        return error_response(422, invalid_input_detail(request, failure))
    if isinstance(failure, DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(failure, Unauthenticated) else None
        return error_response(status_of(failure), failure.detail, headers)
    if isinstance(failure, ValidationFailed):
        return error_response(422, failure.detail)
    if isinstance(failure, web.HTTPException):
        if failure.status < 400:
            raise failure
        detail = plain_detail("body", failure.reason) if failure.status == 422 else failure.reason
        return error_response(failure.status, detail, _kept_headers(failure))
    logger.error("unhandled error (request id %s)", request.get(REQUEST_ID), exc_info=failure)
    return error_response(500, "Internal server error")


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {name: value for name, value in exc.headers.items() if name in ("Allow",)}


def needs_token(request: web.Request) -> bool:
    """Every route needs a token but those marked public, CORS preflights and the docs."""
    route = request.match_info.route
    return not (
        isinstance(route, SystemRoute)
        or is_public(route.handler)
        or request.method == "OPTIONS"
        or request.path.startswith(DOCS_PREFIXES)
    )


async def authenticate(request: web.Request) -> None:
    """Require a valid id token of a confirmed user; the caller goes on the request."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Not authenticated")
    caller = await request.app[SERVICES].token_verifier.verify(token)
    request[PRINCIPAL] = require_confirmed_user(caller)


def bearer_token(request: web.Request) -> str | None:
    """The token of the `Authorization` header, or of the login cookie on safe methods.

    The cookie (set by `POST /login`) is honoured only for GET/HEAD so that a
    cross-site form can never change anything with it.
    """
    header = request.headers.get("Authorization")
    if header is None and request.method in _SAFE_METHODS:
        header = request.cookies.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.strip().strip('"').partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
