"""Request id, error mapping and authentication, applied to every request."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

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

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SAFE_METHODS = ("GET", "HEAD")
DOCS_PREFIXES = (DOCS_PATH, STATIC_PATH)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tag the request with the caller's `X-Request-ID` (if sane) or a fresh one.

    `add_request_id_header` puts it on the response once that is about to be sent.
    """
    given = request.headers.get("X-Request-ID", "")
    request[REQUEST_ID] = given if _SAFE_REQUEST_ID.match(given) else new_request_id()
    return await handler(request)


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every response carries the request id, streamed downloads and errors included."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers["X-Request-ID"] = request_id


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure as JSON `{"detail": ...}`; never leak a traceback."""
    try:
        return await handler(request)
    except InvalidInput as exc:
        return error_response(422, invalid_input_detail(request, exc))
    except DomainError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return error_response(status_of(exc), exc.detail, headers)
    except ValidationFailed as exc:
        return error_response(422, exc.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = plain_detail("body", exc.reason) if exc.status == 422 else exc.reason
        return error_response(exc.status, detail, _kept_headers(exc))
    except Exception:
        logger.exception("unhandled error (request id %s)", request.get(REQUEST_ID))
        return error_response(500, "Internal server error")


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {name: value for name, value in exc.headers.items() if name in ("Allow",)}


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require a valid id token of a confirmed user on every route not marked public."""
    route = request.match_info.route
    if (
        isinstance(route, SystemRoute)
        or is_public(route.handler)
        or request.method == "OPTIONS"
        or request.path.startswith(DOCS_PREFIXES)
    ):
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("Not authenticated")
    caller = await request.app[SERVICES].token_verifier.verify(token)
    request[PRINCIPAL] = require_confirmed_user(caller)
    return await handler(request)


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
