"""The jobs feature as the composition root assembles it: start-up checks and restarts."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import RecordingWorkerQueue
from tests.http.jobs_helpers import UserFiles
from tests.unit.job_world import ALICE, train_spec
from tests.waiting import eventually
from userfacing_api.adapters.db.database import open_database
from userfacing_api.bootstrap import open_services
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import JobStatus
from userfacing_api.settings import CatalogueSettings, Settings, SettingsError


@pytest.fixture
def broken_catalogue(tmp_path: Path, reference_catalogue: Path) -> Path:
    """The reference catalogue with its first `image_url` misspelt."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(reference_catalogue.read_text().replace("image_url:", "image_link:", 1))
    return broken


async def test_an_invalid_catalogue_stops_start_up_naming_the_key(
    settings: Settings, broken_catalogue: Path
) -> None:
    with pytest.raises(SettingsError) as raised:
        async with open_services(
            replace(settings, catalogue=CatalogueSettings(str(broken_catalogue)))
        ):
            pass

    fault = "decode.v0_10_1.train.handler.image_url: required"
    assert str(raised.value) == f"APPLICATION_CONFIG_FILE: {broken_catalogue}: {fault}"


async def test_a_missing_catalogue_stops_start_up(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SettingsError, match=f"APPLICATION_CONFIG_FILE: {missing}: No such file"):
        async with open_services(replace(settings, catalogue=CatalogueSettings(str(missing)))):
            pass


async def test_jobs_wait_without_a_worker_side_and_are_delivered_after_a_restart(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await UserFiles(settings).put_inputs(ALICE.user_id)
    with caplog.at_level(logging.WARNING):
        async with open_services(settings) as services:
            job = await services.jobs.create(ALICE, train_spec())
    assert caplog.text.count("WORKERFACING_API_URL is not set") == 1

    queue = RecordingWorkerQueue()
    async with open_services(settings, worker_queue=queue) as services:
        await eventually(lambda: len(queue.sent) == 1)
        listed = await services.jobs.list_jobs(UserId(ALICE.user_id), 0, 10)

    assert queue.sent[0]["job"]["meta"]["job_id"] == job.id
    assert [(entry.id, entry.status) for entry in listed] == [(job.id, JobStatus.QUEUED)]
    async with (
        open_database(settings.database.url) as database,
        database.jobs.transaction() as transaction,
    ):
        assert await transaction.outbox.next_due() is None
