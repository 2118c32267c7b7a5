"""An edit of the application catalogue file is visible to the very next request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TokenFactory
from tests.http.files_helpers import Client
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from userfacing_api.settings import Settings


@pytest.fixture
def catalogue_file(tmp_path: Path, reference_catalogue: Path) -> Path:
    path = tmp_path / "application_config.yaml"
    path.write_bytes(reference_catalogue.read_bytes())
    return path


@pytest.fixture
def environ(environ: dict[str, str], catalogue_file: Path) -> dict[str, str]:
    return {**environ, "APPLICATION_CONFIG_FILE": str(catalogue_file)}


@pytest.fixture
def configured(catalogue_file: Path) -> Any:
    return yaml.safe_load(catalogue_file.read_text())


def edit(path: Path, document: Any) -> None:
    """Rewrite the file as an editor would; its modification time moves on for sure."""
    before = path.stat()
    path.write_text(yaml.safe_dump(document))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


async def test_an_edited_catalogue_is_served_and_used_by_the_next_request(
    client: Client,
    user_headers: TokenFactory,
    settings: Settings,
    catalogue_file: Path,
    configured: Any,
) -> None:
    headers = await user_headers()
    await UserFiles(settings).put_inputs(user_id_of(headers))
    document = configured
    document["decode"]["v9"] = document["decode"]["v0_10_1"]
    application = {"application": "decode", "version": "v9", "entrypoint": "train"}
    refused = await client.post("/jobs", json=job_body(application=application), headers=headers)

    edit(catalogue_file, document)
    served = await client.get("/jobs/applications", headers=headers)
    accepted = await client.post("/jobs", json=job_body(application=application), headers=headers)

    assert refused.status == 422
    assert await served.json() == document
    assert accepted.status == 201, await accepted.text()


async def test_an_invalid_edit_keeps_the_last_good_catalogue(
    client: Client, user_headers: TokenFactory, catalogue_file: Path, configured: Any
) -> None:
    headers = await user_headers()
    good = configured

    edit(catalogue_file, {"decode": {"v1": {"train": {"app": "no command"}}}})
    served = await client.get("/jobs/applications", headers=headers)

    assert served.status == 200
    assert await served.json() == good
