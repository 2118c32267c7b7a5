"""`GET /ready`: 200 only while the database and the file storage answer."""

from __future__ import annotations

import shutil
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from userfacing_api.settings import Settings

Client = TestClient[web.Request, web.Application]


async def test_the_service_is_ready_without_a_token(client: Client) -> None:
    response = await client.get("/ready")

    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_without_its_file_storage_the_service_is_not_ready(
    client: Client, settings: Settings
) -> None:
    shutil.rmtree(Path(settings.storage.user_data_root_path), ignore_errors=True)

    response = await client.get("/ready")

    assert response.status == 503
    assert "file storage" in (await response.json())["detail"]


async def test_readiness_is_documented(client: Client) -> None:
    spec = await (await client.get("/docs/swagger.json")).json()
    assert spec["paths"]["/ready"]["get"]["tags"] == ["Misc"]
