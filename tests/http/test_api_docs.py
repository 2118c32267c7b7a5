"""The served API description, as a newcomer and Swagger UI or a client generator read it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.http.jobs_helpers import UserFiles, user_id_of
from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]

PUBLIC = {
    ("/", "get"),
    ("/health", "get"),
    ("/ready", "get"),
    ("/metrics", "get"),
    ("/access_info", "get"),
    ("/user", "post"),
    ("/token", "post"),
    ("/login", "post"),
}
INTERNAL = ("/_job_status", "put")
RESPONSE_SCHEMAS = [("/jobs/applications", "get"), ("/", "get"), ("/_job_status", "put")]


@pytest.fixture
async def spec(client: Client) -> dict[str, Any]:
    response = await client.get("/docs/swagger.json")
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    return document


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    found: dict[str, Any] = spec["definitions"][schema["$ref"].removeprefix("#/definitions/")]
    return found


def test_every_operation_has_a_unique_stable_id_and_a_summary(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in operations(spec).values()]

    assert len(ids) == len(set(ids))
    assert all(identifier.isidentifier() for identifier in ids)
    assert operations(spec)[("/jobs", "post")]["operationId"] == "create_job"
    assert all(operation["summary"] for operation in operations(spec).values())


def test_no_operation_is_a_head_twin_of_a_get(spec: dict[str, Any]) -> None:
    assert {method for _, method in operations(spec)} <= {"get", "post", "put", "delete"}


def test_public_endpoints_carry_no_padlock_and_the_others_the_user_token(
    spec: dict[str, Any],
) -> None:
    security = {key: operation.get("security") for key, operation in operations(spec).items()}

    assert spec["security"] == [{"bearer": []}]
    assert {key for key, value in security.items() if value == []} == PUBLIC
    assert security[INTERNAL] == [{"internal": []}]
    assert all(security[key] is None for key in security if key not in PUBLIC and key != INTERNAL)


def test_the_internal_endpoint_has_its_own_tag_and_key(spec: dict[str, Any]) -> None:
    tags = {key: operation["tags"] for key, operation in operations(spec).items()}

    assert tags[INTERNAL] == ["Internal"]
    assert all("Internal" not in tag for key, tag in tags.items() if key != INTERNAL)
    assert spec["securityDefinitions"]["internal"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
        "description": spec["securityDefinitions"]["internal"]["description"],
    }
    assert "Internal" in [tag["name"] for tag in spec["tags"]]


def test_the_description_says_how_to_get_and_use_a_token(spec: dict[str, Any]) -> None:
    description = spec["info"]["description"]

    assert "POST /token" in description
    assert "id_token" in description
    assert "Authorize" in description
    assert spec["securityDefinitions"]["bearer"]["name"] == "Authorization"


def test_request_bodies_are_required(spec: dict[str, Any]) -> None:
    bodies = {
        key: parameter
        for key, operation in operations(spec).items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "body"
    }

    assert set(bodies) == {
        ("/jobs", "post"),
        ("/files/{path}", "put"),
        ("/uploads", "post"),
        INTERNAL,
    }
    assert all(parameter["required"] is True for parameter in bodies.values())


def test_every_operation_lists_its_error_answers_with_schemas(spec: dict[str, Any]) -> None:
    for key, operation in operations(spec).items():
        responses = operation["responses"]
        if key not in PUBLIC and key != INTERNAL:
            assert {"401", "403"} <= set(responses), key
        if operation.get("parameters"):
            assert "422" in responses, key
        for status, answer in responses.items():
            if int(status) >= 400:
                assert "schema" in answer, (key, status)
                expected = "ValidationError" if status == "422" else "Error"
                assert answer["schema"] == {"$ref": f"#/definitions/{expected}"}, (key, status)
    jobs = operations(spec)[("/jobs", "post")]["responses"]
    assert {"400", "409", "413", "422"} <= set(jobs)
    assert {"404", "405", "409", "412"} <= set(
        operations(spec)[("/files/{path}", "put")]["responses"]
    )
    assert "404" in operations(spec)[("/jobs/{job_id}", "get")]["responses"]
    for upload in (("/files/{type}/{dir}/upload", "post"), ("/files/{type}/upload", "post")):
        assert {"400", "409", "422", "507"} <= set(operations(spec)[upload]["responses"])
    assert {"409", "507"} <= set(operations(spec)[("/files/{type}/{dir}/", "post")]["responses"])
    assert "507" in operations(spec)[("/files/{path}", "put")]["responses"]


def test_a_422_is_described_in_the_list_shape(spec: dict[str, Any]) -> None:
    error = spec["definitions"]["ValidationError"]
    entry = resolved(spec, error["properties"]["detail"]["items"])

    assert error["properties"]["detail"]["type"] == "array"
    assert set(entry["properties"]) == {"loc", "msg", "type"}
    assert set(entry["required"]) == {"loc", "msg", "type"}
    assert entry["properties"]["loc"]["type"] == "array"
    assert spec["definitions"]["Error"]["properties"]["detail"]["type"] == "string"


@pytest.mark.parametrize("key", RESPONSE_SCHEMAS)
def test_answers_without_a_marshmallow_schema_are_described_too(
    spec: dict[str, Any], key: tuple[str, str]
) -> None:
    schema = operations(spec)[key]["responses"]["200"]["schema"]

    assert schema["type"] in ("string", "object")
    if key == INTERNAL:
        assert "finished" in schema["enum"]
    if key == ("/jobs/applications", "get"):
        assert schema["additionalProperties"]["additionalProperties"]["type"] == "object"


async def test_the_job_example_starts_a_job_once_its_inputs_exist(
    client: Client, spec: dict[str, Any], user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    files = UserFiles(settings)
    await files.put(user_id_of(headers), "config/exp1/param.yaml")
    await files.put(user_id_of(headers), "data/exp1/frames.tif")
    [body] = operations(spec)[("/jobs", "post")]["parameters"]
    example = resolved(spec, body["schema"])["example"]

    response = await client.post("/jobs", json=example, headers=headers)

    assert response.status == 201, await response.text()


async def test_the_rename_example_renames(
    client: Client, spec: dict[str, Any], user_headers: TokenFactory, settings: Settings
) -> None:
    headers = await user_headers()
    await UserFiles(settings).put(user_id_of(headers), "data/exp1/frames.tif")
    [body] = [
        parameter
        for parameter in operations(spec)[("/files/{path}", "put")]["parameters"]
        if parameter["in"] == "body"
    ]
    example = resolved(spec, body["schema"])["example"]

    response = await client.put("/files/data/exp1/frames.tif", json=example, headers=headers)

    assert response.status == 200, await response.text()
    assert (await response.json())["path"] == example["path"]


async def test_the_swagger_page_adds_the_bearer_prefix_to_a_raw_token(client: Client) -> None:
    response = await client.get("/docs")
    page = await response.text()

    assert response.status == 200
    assert response.content_type == "text/html"
    assert "requestInterceptor: withBearer" in page
    assert '"Bearer " + value' in page
    assert 'url: "/docs/swagger.json"' in page
    script = await client.get("/static/swagger/swagger-ui-bundle.js")
    assert script.status == 200
