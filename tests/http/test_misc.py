"""Behaviour every endpoint shares: welcome, CORS, request ids, error bodies and API docs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import ClientFactory, TokenFactory
from tests.fakes import InMemoryIdentity
from tests.http.files_helpers import uploaded
from tests.http.validation import validation_errors
from tests.waiting import eventually
from userfacing_api.adapters.http.access_log import RequestIdAccessLogger
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.domain import errors
from userfacing_api.domain.identity import Principal
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]

FRONTEND = "https://frontend.example.org"
OTHER_ORIGIN = "https://elsewhere.example.com"
PREFLIGHT_HEADERS = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DOC_TAGS = {"Files", "Uploads", "Jobs", "Authentication", "Internal", "Misc"}

with_frontend = pytest.mark.parametrize(
    "environ", [{"FRONTEND_URL": FRONTEND}], indirect=True, ids=["frontend"]
)


@pytest.fixture
def environ(environ: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """The shared environment, plus what a test adds with `with_frontend`."""
    added: dict[str, str] = getattr(request, "param", {})
    return {**environ, **added}


async def test_the_root_welcomes_callers_without_a_token(client: Client) -> None:
    response = await client.get("/")

    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == "Welcome to the DECODE OpenCloud User-facing API"


async def test_health_answers_without_a_token(client: Client) -> None:
    response = await client.get("/health")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


@with_frontend
async def test_a_preflight_from_the_frontend_is_allowed_with_credentials(client: Client) -> None:
    response = await client.options("/jobs", headers={"Origin": FRONTEND, **PREFLIGHT_HEADERS})

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower().split(",")
    assert {"authorization", "content-type"} <= set(allowed_headers)


@with_frontend
async def test_a_request_from_the_frontend_carries_the_cors_headers(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.get("/files/", headers={**headers, "Origin": FRONTEND})

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@with_frontend
async def test_another_origin_gets_no_cors_permission(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    preflight = await client.options("/jobs", headers={"Origin": OTHER_ORIGIN, **PREFLIGHT_HEADERS})
    actual = await client.get("/files/", headers={**headers, "Origin": OTHER_ORIGIN})

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert actual.status == 200
    assert "Access-Control-Allow-Origin" not in actual.headers
    assert "Access-Control-Allow-Credentials" not in actual.headers


async def test_without_a_frontend_url_no_origin_gets_cors_headers(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    preflight = await client.options("/jobs", headers={"Origin": FRONTEND, **PREFLIGHT_HEADERS})
    actual = await client.get("/files/", headers={**headers, "Origin": FRONTEND})

    assert actual.status == 200
    for response in (preflight, actual):
        assert not any(name.startswith("Access-Control-") for name in response.headers)


async def test_a_sane_request_id_of_the_caller_is_echoed(client: Client) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "frontend-42.retry_1"})

    assert response.headers["X-Request-ID"] == "frontend-42.retry_1"


@pytest.mark.parametrize(
    "given",
    ["r" * 200, "two words", "semi;colon", "new\tline", "ünïcode"],
    ids=["too-long", "space", "semicolon", "tab", "non-ascii"],
)
async def test_an_insane_request_id_is_replaced_by_a_generated_one(
    client: Client, given: str
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": given})

    assigned = response.headers["X-Request-ID"]
    assert assigned != given
    assert SAFE_REQUEST_ID.match(assigned)


async def test_a_request_without_an_id_gets_a_fresh_one_each_time(client: Client) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    assert SAFE_REQUEST_ID.match(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize(("path", "status"), [("/files/", 401), ("/no/such/route", 404)])
async def test_error_responses_carry_the_request_id_too(
    client: Client, path: str, status: int
) -> None:
    response = await client.get(path, headers={"X-Request-ID": "failing-call-7"})

    assert response.status == status
    assert response.headers["X-Request-ID"] == "failing-call-7"


async def test_streamed_downloads_and_every_kind_of_answer_carry_the_request_id(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()
    await uploaded(client, headers, "data/exp", "a.tif", b"frames")
    calls = [
        ("GET", "/files/data/exp/a.tif/download", {}),
        ("GET", "/files/data/exp/a.tif/download", {"Range": "bytes=0-1"}),
        ("GET", "/files/data/exp/download", {}),
        ("GET", "/files/data/missing/download", {}),
        ("POST", "/files/logs/x/", {}),
        ("PATCH", "/files/data/exp", {}),
        ("GET", "/docs/swagger.json", {}),
    ]

    answers = []
    for number, (method, path, extra) in enumerate(calls):
        sent = {**headers, **extra, "X-Request-ID": f"call-{number}"}
        async with client.request(method, path, headers=sent) as response:
            await response.read()
            answers.append((response.status, response.headers.get("X-Request-ID")))

    assert answers == [
        (200, "call-0"),
        (206, "call-1"),
        (200, "call-2"),
        (404, "call-3"),
        (422, "call-4"),
        (405, "call-5"),
        (200, "call-6"),
    ]


async def test_an_unknown_route_answers_404_json_even_without_a_token(client: Client) -> None:
    response = await client.get("/no/such/route")

    assert response.status == 404
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"detail"}
    assert isinstance(body["detail"], str)


async def test_a_wrong_method_answers_405_json_naming_the_allowed_ones(client: Client) -> None:
    response = await client.patch("/jobs", json={})

    assert response.status == 405
    assert response.content_type == "application/json"
    assert set(await response.json()) == {"detail"}
    assert "POST" in response.headers["Allow"]


async def test_a_body_failing_its_schema_answers_422_with_one_entry_per_field(
    client: Client, user_headers: TokenFactory
) -> None:
    headers = await user_headers()

    response = await client.post("/jobs", headers=headers, json={"job_name": 5})

    errors = await validation_errors(response)
    assert sorted(errors) == [
        (["body", "application"], "Field required"),
        (["body", "attributes"], "Field required"),
        (["body", "job_name"], "Not a valid string."),
    ]


class ExplodingVerifier:
    """A token verifier that fails with `error` on every call."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def verify(self, token: str) -> Principal:
        raise self.error


AppFactory = Callable[[Exception], web.Application]


@pytest.fixture
def failing_app(settings: Settings) -> AppFactory:
    """A factory of the real application whose token verifier raises the error given."""

    def build(error: Exception) -> web.Application:
        return create_app(settings, identity=(ExplodingVerifier(error), InMemoryIdentity()))

    return build


async def test_an_unexpected_error_answers_a_generic_500_and_is_logged_with_the_request_id(
    aiohttp_client: ClientFactory, failing_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = await aiohttp_client(failing_app(RuntimeError("verifier broke: key-material-xyz")))

    response = await client.get(
        "/files/", headers={"Authorization": "Bearer any-token", "X-Request-ID": "boom-1"}
    )

    assert response.status == 500
    assert response.headers["X-Request-ID"] == "boom-1"
    text = await response.text()
    assert await response.json() == {"detail": "Internal server error"}
    for leak in ("Traceback", "RuntimeError", "key-material-xyz"):
        assert leak not in text
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert "boom-1" in logged[0].getMessage()
    assert logged[0].exc_info is not None


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.Unavailable("The identity provider cannot be reached"), 503),
        (errors.Forbidden("Account not confirmed"), 403),
        (errors.NotFound("No such user"), 404),
    ],
)
async def test_a_domain_error_is_answered_with_its_status_and_detail(
    aiohttp_client: ClientFactory, failing_app: AppFactory, error: errors.DomainError, status: int
) -> None:
    client = await aiohttp_client(failing_app(error))

    response = await client.get("/files/", headers={"Authorization": "Bearer any-token"})

    assert response.status == status
    assert await response.json() == {"detail": error.detail}


async def test_the_swagger_ui_is_served_as_html(client: Client) -> None:
    response = await client.get("/docs")

    assert response.status == 200
    assert response.content_type == "text/html"
    assert "swagger" in (await response.text()).lower()


def _app_operations(app: web.Application) -> set[tuple[str, str]]:
    """`(method, path)` of every API route: no docs, static files, HEAD or OPTIONS."""
    operations = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if (
            isinstance(route.resource, web.StaticResource)
            or path.startswith("/docs")
            or route.method in ("HEAD", "OPTIONS")
        ):
            continue
        operations.add((route.method.lower(), path))
    return operations


async def _spec(client: Client) -> dict[str, Any]:
    response = await client.get("/docs/swagger.json")
    assert response.status == 200
    spec: dict[str, Any] = await response.json()
    return spec


async def test_the_api_description_lists_every_route_with_a_tag_and_a_summary(
    client: Client,
) -> None:
    spec = await _spec(client)

    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method not in ("head", "options")
    }
    assert documented == _app_operations(client.app)
    assert ("post", "/jobs") in documented
    for method, path in documented:
        operation = spec["paths"][path][method]
        assert DOC_TAGS & set(operation.get("tags", [])), f"{method} {path} has no known tag"
        assert operation.get("summary"), f"{method} {path} has no summary"


def _json_body_operations(app: web.Application) -> set[tuple[str, str]]:
    """Routes whose handler validates a JSON body (what aiohttp-apispec's middleware reads)."""
    operations = set()
    for route in app.router.routes():
        schemas = getattr(route.handler, "__schemas__", None) or []
        if route.resource is not None and any("json" in s["locations"] for s in schemas):
            operations.add((route.method.lower(), route.resource.canonical))
    return operations


async def test_every_json_body_is_documented_with_a_schema_that_resolves(client: Client) -> None:
    spec = await _spec(client)
    with_bodies = _json_body_operations(client.app)

    assert {("post", "/jobs"), ("put", "/files/{path}"), ("put", "/_job_status")} <= with_bodies
    for method, path in with_bodies:
        parameters = spec["paths"][path][method].get("parameters", [])
        bodies = [parameter for parameter in parameters if parameter["in"] == "body"]
        assert len(bodies) == 1, f"{method} {path} documents no JSON body"
        reference = bodies[0]["schema"]["$ref"]
        assert reference.startswith("#/definitions/")
        assert reference.removeprefix("#/definitions/") in spec["definitions"]


async def test_every_reference_in_the_api_description_resolves(client: Client) -> None:
    spec = await _spec(client)

    references = list(_references(spec))
    assert references
    for reference in references:
        assert reference.removeprefix("#/definitions/") in spec["definitions"], reference


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


@pytest.fixture
async def logged_client(
    aiohttp_client: ClientFactory, settings: Settings, identity: Identity | None
) -> Client:
    """The application served with the access logger `serve` uses."""
    server = TestServer(create_app(settings, identity=identity))
    await server.start_server(access_log_class=RequestIdAccessLogger)
    return await aiohttp_client(server)


@pytest.mark.parametrize("given", ["access-probe-1", "not a sane id"])
async def test_the_access_log_line_carries_the_request_id_of_the_response(
    logged_client: Client, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")

    response = await logged_client.get("/health", headers={"X-Request-ID": given})
    request_id = response.headers["X-Request-ID"]

    def access_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]

    await eventually(lambda: any("/health" in line for line in access_lines()))
    (line,) = [line for line in access_lines() if "/health" in line]
    assert line.endswith(f"rid={request_id}")
    assert " GET /health 200 " in line


@pytest.mark.parametrize(
    "environ", [{"FRONTEND_URL": f"{FRONTEND}/decode/app"}], indirect=True, ids=["with-path"]
)
async def test_a_frontend_url_with_a_path_still_allows_its_origin(client: Client) -> None:
    response = await client.options("/jobs", headers={"Origin": FRONTEND, **PREFLIGHT_HEADERS})

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND


async def test_a_body_that_is_not_json_says_so(client: Client, user_headers: TokenFactory) -> None:
    headers = await user_headers()

    response = await client.post(
        "/jobs", data=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )

    assert response.status == 400
    assert await response.json() == {"detail": "Invalid JSON body"}
