"""Jobs handed to a worker-facing API stand-in by the real application, on both engines.

The service runs as configured (its own `WorkerApiQueue` and dispatcher) with
short retry pauses; the stand-in records what it receives and can go down.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ClientFactory
from tests.databases import database_url as database_url
from tests.http.jobs_fixtures import alice as alice
from tests.http.jobs_fixtures import files as files
from tests.http.jobs_helpers import UserFiles, job_body, user_id_of
from tests.integration.fakes_http import FakeWorkerApi
from tests.integration.worker_api_setup import (
    Client,
    described,
    job_ids,
    report,
    start,
    wait_until_the_outbox_is_empty,
)
from tests.integration.worker_api_setup import environ as environ
from tests.integration.worker_api_setup import extra_environ as extra_environ
from tests.waiting import polled
from userfacing_api.bootstrap import create_app
from userfacing_api.settings import Settings

HARDWARE = {"cpu_cores": 4, "memory": 8000, "gpu_model": "A100", "gpu_archi": None, "gpu_mem": 8}


@pytest.fixture
def train_entry(reference_catalogue: Path) -> dict[str, Any]:
    """The reference catalogue's `decode v0_10_1 train` entry."""
    entry: dict[str, Any] = yaml.safe_load(reference_catalogue.read_text())["decode"]["v0_10_1"][
        "train"
    ]
    return entry


@pytest.fixture
def data_root(settings: Settings) -> Path:
    """The absolute folder of the users' trees in the local storage."""
    return Path(settings.storage.user_data_root_path).resolve()


async def test_the_worker_side_receives_the_contracts_payload(
    client: Client,
    alice: dict[str, str],
    fake_worker_api: FakeWorkerApi,
    train_entry: dict[str, Any],
    data_root: Path,
) -> None:
    job = await start(client, alice, hardware=HARDWARE, environment="local", priority=3)

    [received] = await fake_worker_api.wait_for_jobs(1)

    tree = data_root / user_id_of(alice)
    assert received.headers["x-api-key"] == fake_worker_api.api_key
    meta = received.body["job"].pop("meta")
    assert meta["job_id"] == job["id"]
    assert datetime.fromisoformat(meta["date_created"]) == datetime.fromisoformat(
        job["date_created"]
    )
    assert received.body == {
        "job": {
            "app": {"cmd": train_entry["app"]["cmd"], "env": {}},
            "handler": {
                "image_url": train_entry["handler"]["image_url"],
                "image_name": "decode",
                "image_version": "v0_10_1",
                "entrypoint": "train",
                "files_down": {
                    "config/param.yaml": str(tree / "config/exp1/param.yaml"),
                    "data/calib.mat": str(tree / "data/beads/calib.mat"),
                },
                "files_up": train_entry["handler"]["files_up"],
            },
            "hardware": HARDWARE,
        },
        "environment": "local",
        "group": None,
        "priority": 3,
        "paths_upload": {
            "output": str(tree / "output/run1"),
            "log": str(tree / "log/run1"),
            "artifact": str(tree / "artifact/run1"),
        },
    }


async def test_single_file_inputs_arrive_alone_under_their_roots_by_name(
    client: Client,
    alice: dict[str, str],
    settings: Settings,
    fake_worker_api: FakeWorkerApi,
    train_entry: dict[str, Any],
    data_root: Path,
) -> None:
    user = user_id_of(alice)
    files = UserFiles(settings)
    await files.put(user, "data/beads/sub/frame.tif")
    await files.put(user, "artifact/models/m1/model.pt")
    files_down = {
        "config_id": "exp1/param.yaml",
        "data_ids": ["beads/sub/frame.tif", "beads"],
        "artifact_ids": ["models/m1/model.pt"],
    }
    job = await start(client, alice, attributes={"files_down": files_down, "env_vars": {}})

    [received] = await fake_worker_api.wait_for_jobs(1)

    tree = data_root / user
    assert received.body == {
        "job": {
            "app": {"cmd": train_entry["app"]["cmd"], "env": {}},
            "handler": {
                "image_url": train_entry["handler"]["image_url"],
                "image_name": "decode",
                "image_version": "v0_10_1",
                "entrypoint": "train",
                "files_down": {
                    "config/param.yaml": str(tree / "config/exp1/param.yaml"),
                    "data/frame.tif": str(tree / "data/beads/sub/frame.tif"),
                    "data/calib.mat": str(tree / "data/beads/calib.mat"),
                    "data/sub/frame.tif": str(tree / "data/beads/sub/frame.tif"),
                    "artifact/model.pt": str(tree / "artifact/models/m1/model.pt"),
                },
                "files_up": train_entry["handler"]["files_up"],
            },
            "meta": {
                "job_id": job["id"],
                "date_created": received.body["job"]["meta"]["date_created"],
            },
            "hardware": dict.fromkeys(HARDWARE),
        },
        "environment": "cloud",
        "group": None,
        "priority": 1,
        "paths_upload": {kind: str(tree / kind / "run1") for kind in ("output", "log", "artifact")},
    }
    assert job["attributes"]["files_down"] == files_down


async def test_a_job_the_worker_side_rejects_is_502_with_its_detail_and_its_name_is_free(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi
) -> None:
    fake_worker_api.reject(422, detail="no worker offers an A100")

    rejected = await client.post("/jobs", json=job_body(hardware=HARDWARE), headers=alice)

    assert rejected.status == 502
    assert "no worker offers an A100" in (await rejected.json())["detail"]
    assert await (await client.get("/jobs", headers=alice)).json() == []
    fake_worker_api.accept()
    job = await start(client, alice)
    assert [received.status for received in fake_worker_api.received] == [422, 201]
    assert job_ids(fake_worker_api)[job["id"]] == 1


async def test_a_job_started_while_the_worker_side_is_down_is_delivered_once_it_is_back(
    client: Client, alice: dict[str, str], settings: Settings, fake_worker_api: FakeWorkerApi
) -> None:
    await fake_worker_api.go_down()
    job = await start(client, alice)

    await fake_worker_api.come_back()
    await fake_worker_api.wait_for_jobs(1)
    await wait_until_the_outbox_is_empty(settings.database.url)

    assert job_ids(fake_worker_api) == {job["id"]: 1}
    assert (await described(client, alice, job["id"]))["status"] == "queued"


async def test_a_job_waiting_for_the_worker_side_is_delivered_once_after_a_restart(
    aiohttp_client: ClientFactory,
    client: Client,
    alice: dict[str, str],
    settings: Settings,
    fake_worker_api: FakeWorkerApi,
) -> None:
    await fake_worker_api.go_down()
    job = await start(client, alice)
    await client.close()

    await fake_worker_api.come_back()
    restarted = await aiohttp_client(create_app(settings))
    await fake_worker_api.wait_for_jobs(1)
    await wait_until_the_outbox_is_empty(settings.database.url)

    assert job_ids(fake_worker_api) == {job["id"]: 1}
    assert (await described(restarted, alice, job["id"]))["status"] == "queued"


async def test_two_instances_on_one_database_deliver_every_job_exactly_once(
    aiohttp_client: ClientFactory,
    client: Client,
    alice: dict[str, str],
    settings: Settings,
    fake_worker_api: FakeWorkerApi,
) -> None:
    other = await aiohttp_client(create_app(settings))
    await fake_worker_api.go_down()
    jobs = [
        await start(instance, alice, job_name=f"run{number}")
        for number, instance in enumerate([client, other] * 4)
    ]

    await fake_worker_api.come_back()
    await fake_worker_api.wait_for_jobs(len(jobs))
    await wait_until_the_outbox_is_empty(settings.database.url)

    assert job_ids(fake_worker_api) == {job["id"]: 1 for job in jobs}


@pytest.mark.parametrize("extra_environ", [{"JOB_DELIVERY_DEADLINE": "1"}], ids=["deadline-1s"])
async def test_a_job_not_delivered_before_the_deadline_turns_error_saying_why(
    client: Client, alice: dict[str, str], settings: Settings, fake_worker_api: FakeWorkerApi
) -> None:
    await fake_worker_api.go_down()
    job = await start(client, alice)

    failed = await polled(
        lambda: described(client, alice, job["id"]), lambda job: job["status"] != "queued"
    )

    assert failed["status"] == "error"
    assert failed["runtime_details"].startswith("Not delivered to the workers within 1 s")
    assert "worker API unreachable" in failed["runtime_details"]
    assert failed["date_finished"] is not None
    await wait_until_the_outbox_is_empty(settings.database.url)
    assert fake_worker_api.received == []


async def test_status_reports_move_a_delivered_job_to_finished_until_it_is_deleted(
    client: Client, alice: dict[str, str], fake_worker_api: FakeWorkerApi
) -> None:
    key = fake_worker_api.api_key
    job = await start(client, alice)
    await fake_worker_api.wait_for_jobs(1)

    assert await report(client, key, job["id"], "pulled", "on worker w1") == 200
    pulled = await described(client, alice, job["id"])
    assert await report(client, key, job["id"], "running", "") == 200
    assert await report(client, key, job["id"], "running", "") == 200
    running = await described(client, alice, job["id"])
    assert await report(client, key, job["id"], "finished", "done") == 200
    assert await report(client, key, job["id"], "finished", "") == 200
    finished = await described(client, alice, job["id"])

    assert [pulled["status"], running["status"], finished["status"]] == [
        "pulled",
        "running",
        "finished",
    ]
    assert pulled["date_started"] is not None
    assert running["date_started"] == finished["date_started"] == pulled["date_started"]
    assert (pulled["date_finished"], running["date_finished"]) == (None, None)
    assert finished["date_finished"] is not None
    assert finished["runtime_details"] == "on worker w1\ndone"
    assert (await client.delete(f"/jobs/{job['id']}", headers=alice)).status == 204
    assert await report(client, key, job["id"], "running", "") == 404
