"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.fakes import InMemoryIdentity
from userfacing_api.bootstrap import Identity, create_app
from userfacing_api.settings import Settings, load_settings

pytest_plugins = ["tests.integration.moto", "tests.integration.postgres"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests that need a real AWS account unless USERFACING_AWS_TESTS=1."""
    if os.environ.get("USERFACING_AWS_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs a real AWS account (set USERFACING_AWS_TESTS=1)")
    for item in items:
        if item.get_closest_marker("aws") is not None:
            item.add_marker(skip)


SHARED_CATALOGUE = Path(__file__).resolve().parents[1].parent / "shared" / "application_config.yaml"
PROJECT_CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "application_config.yaml"

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
TokenFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def reference_catalogue() -> Path:
    """The deployed system's catalogue (beside the repository), or our copy of it."""
    return SHARED_CATALOGUE if SHARED_CATALOGUE.exists() else PROJECT_CATALOGUE


@pytest.fixture
def environ(tmp_path: Path, reference_catalogue: Path) -> dict[str, str]:
    """The embedded default (SQLite, local storage, local identity, AUTH=1) in `tmp_path`."""
    return {
        "AUTH": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "USER_DATA_ROOT_PATH": str(tmp_path / "user_data"),
        "APPLICATION_CONFIG_FILE": str(reference_catalogue),
        "INTERNAL_API_KEY_SECRET": "internal-test-key",
    }


@pytest.fixture
def settings(environ: dict[str, str]) -> Settings:
    return load_settings(environ)


@pytest.fixture
def identity() -> Identity | None:
    """The identity ports of the service under test; None: the ones the settings choose.

    In memory by default, so that tests do not pay for a signing key and a
    password hash per user; suites of the real identity override this with None.
    """
    fake = InMemoryIdentity()
    return fake, fake


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings, identity: Identity | None
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(settings, identity=identity))


@pytest.fixture
def user_headers(client: TestClient[web.Request, web.Application]) -> TokenFactory:
    """Register a user through the API and return headers carrying their id token."""

    async def make(
        username: str = "alice@example.org", groups: list[str] | None = None
    ) -> dict[str, str]:
        form: list[tuple[str, str]] = [("username", username), ("password", "Correct-horse-9")]
        for group in groups if groups is not None else ["users"]:
            form.append(("groups", group))
        created = await client.post("/user", data=form)
        assert created.status == 201, await created.text()
        issued = await client.post(
            "/token", data={"username": username, "password": "Correct-horse-9"}
        )
        assert issued.status == 201, await issued.text()
        token = (await issued.json())["id_token"]
        return {"Authorization": f"Bearer {token}"}

    return make
