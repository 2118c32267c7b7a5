"""Identity endpoints: how to log in, who is calling, and local users (AUTH=1 only)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp_apispec import docs, form_schema, response_schema

from userfacing_api.adapters.http.app_keys import ACCESS_INFO, principal, services
from userfacing_api.adapters.http.public import public
from userfacing_api.adapters.http.schemas.auth import (
    AccessInfoSchema,
    CredentialsFormSchema,
    MessageSchema,
    RegistrationFormSchema,
    TokenSchema,
    UserSchema,
)
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.domain.errors import NotFound
from userfacing_api.domain.identity import IssuedToken, UserId
from userfacing_api.ports.identity import IdentityProvider

routes = web.RouteTableDef()

TAG = "Authentication"
LOGIN_COOKIE = "Authorization"
LOGIN_COOKIE_MAX_AGE = 1800
_FORM_CONTENT = ["application/x-www-form-urlencoded", "multipart/form-data"]
_ONLY_WITH_AUTH = " Exists only when AUTH=1 (development and test deployments)."


@routes.get("/access_info")
@docs(tags=[TAG], summary="The Cognito pool clients log in against", security=[])
@response_schema(AccessInfoSchema(), 200)
@public
async def access_info(request: web.Request) -> web.Response:
    pool = request.app[ACCESS_INFO]
    info = {
        "cognito": {
            "user_pool_id": pool.user_pool_id,
            "client_id": pool.client_id,
            "region": pool.region,
        }
    }
    return web.json_response(AccessInfoSchema().dump(info))


@routes.get("/user")
@docs(tags=[TAG], summary="The caller's e-mail and groups")
@response_schema(UserSchema(), 200)
@response_schema(ErrorSchema(), 401, description="Missing or invalid token")
@response_schema(ErrorSchema(), 403, description="Not a member of the `users` group")
async def get_user(request: web.Request) -> web.Response:
    caller = principal(request)
    groups = None if caller.groups is None else list(caller.groups)
    return web.json_response(UserSchema().dump({"email": caller.email, "groups": groups}))


@docs(
    tags=[TAG],
    summary="Register a local user",
    description="Password: at least 8 characters with upper- and lower-case letters and a digit."
    + _ONLY_WITH_AUTH,
    consumes=_FORM_CONTENT,
    security=[],
)
@form_schema(RegistrationFormSchema())
@response_schema(UserSchema(), 201)
@response_schema(ErrorSchema(), 400, description="Password rejected")
@response_schema(ErrorSchema(), 409, description="User exists")
@public
async def register_user(request: web.Request) -> web.Response:
    form = _form(request)
    registered = await _provider(request).register(
        form["username"], form["password"], form["groups"]
    )
    await services(request).files.ensure_user_tree(UserId(registered.user_id))
    body = {"email": registered.email, "groups": list(registered.groups or ())}
    return web.json_response(UserSchema().dump(body), status=201)


@docs(
    tags=[TAG],
    summary="An id token for a local user",
    description=_ONLY_WITH_AUTH.strip(),
    consumes=_FORM_CONTENT,
    security=[],
)
@form_schema(CredentialsFormSchema())
@response_schema(TokenSchema(), 201)
@response_schema(ErrorSchema(), 400, description="Wrong password")
@response_schema(ErrorSchema(), 404, description="Unknown user")
@public
async def issue_token(request: web.Request) -> web.Response:
    issued = await _issue(request)
    body = {"id_token": issued.id_token, "expires_in": issued.expires_in}
    return web.json_response(TokenSchema().dump(body), status=201)


@docs(
    tags=[TAG],
    summary="Log a local user in with an HttpOnly cookie",
    description="Sets the cookie `Authorization` to `Bearer <id token>` for 30 minutes; "
    "the API honours it on GET requests." + _ONLY_WITH_AUTH,
    consumes=_FORM_CONTENT,
    security=[],
)
@form_schema(CredentialsFormSchema())
@response_schema(MessageSchema(), 201)
@response_schema(ErrorSchema(), 400, description="Wrong password")
@response_schema(ErrorSchema(), 404, description="Unknown user")
@public
async def login(request: web.Request) -> web.Response:
    issued = await _issue(request)
    response = web.json_response(MessageSchema().dump({"message": "Login successful"}), status=201)
    response.set_cookie(
        LOGIN_COOKIE,
        f"Bearer {issued.id_token}",
        max_age=LOGIN_COOKIE_MAX_AGE,
        httponly=True,
        secure=True,
        samesite="None",
    )
    return response


async def _issue(request: web.Request) -> IssuedToken:
    form = _form(request)
    return await _provider(request).issue_token(form["username"], form["password"])


def _form(request: web.Request) -> dict[str, Any]:
    """The form fields as validated by `form_schema`."""
    form: dict[str, Any] = request["form"]
    return form


def _provider(request: web.Request) -> IdentityProvider:
    provider = services(request).identity_provider
    if provider is None:
        raise NotFound("Not Found")
    return provider


def local_user_routes(enabled: bool) -> list[web.RouteDef]:
    """`POST /user`, `/token` and `/login`; when not enabled, routes that answer 404.

    Leaving them out would not do: `POST /user` would then be a 405, as `GET /user` exists.
    """
    if enabled:
        return [
            web.post("/user", register_user),
            web.post("/token", issue_token),
            web.post("/login", login),
        ]
    return [web.post(path, _absent) for path in ("/user", "/token", "/login")]


@public
async def _absent(request: web.Request) -> web.Response:
    raise NotFound("Not Found")
