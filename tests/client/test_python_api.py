"""The Python API (`Client`, `AsyncClient`) against the running service."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from decode_cloud import ApiError, AsyncClient, Client, JobSpec, NotLoggedIn
from decode_cloud.credentials import CredentialStore
from decode_cloud.uploads import SessionState
from tests.client.conftest import SCIENTIST, Deployment
from tests.client.service import PASSWORD

SPEC = JobSpec(name="beads", app="decode:v0_10_1:train", config="exp1", data=["frames"])


def make_inputs(root: Path) -> dict[str, bytes]:
    files = {
        "exp1/param.yaml": b"Hardware:\n  device: cuda\n",
        "frames/frames.tif": os.urandom(2_000_000),
    }
    for relative, content in files.items():
        write_file(root / relative, content)
    return files


def write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.fixture
async def python_client(tmp_path: Path, local_deployment: Deployment) -> AsyncIterator[Client]:
    service = local_deployment.service
    await service.register(SCIENTIST)
    client = Client(
        service.url,
        store=CredentialStore(tmp_path / "config"),
        state=SessionState(tmp_path / "state"),
    )
    try:
        await asyncio.to_thread(client.login, SCIENTIST, PASSWORD)
        yield client
    finally:
        client.close()


async def test_the_synchronous_client_uploads_submits_and_fetches(
    python_client: Client, local_deployment: Deployment, tmp_path: Path
) -> None:
    inputs = make_inputs(tmp_path / "in")
    with python_client as cloud:
        config = await asyncio.to_thread(cloud.upload, [tmp_path / "in" / "exp1"], "config")
        data = await asyncio.to_thread(cloud.upload, [tmp_path / "in" / "frames"], "data/")
        # Called straight from a coroutine, as in a notebook whose loop is running.
        listed = cloud.ls("data", recursive=True)
        downloaded = await asyncio.to_thread(
            cloud.download, "data/frames/frames.tif", tmp_path / "back.tif"
        )
        job = await asyncio.to_thread(cloud.submit, SPEC)
        delivered = await local_deployment.worker.wait_for_jobs(1)
        write_file(Path(delivered[0].body["paths_upload"]["output"]) / "model.pt", b"weights")
        await local_deployment.service.report_status(job.id, "finished", "done")
        events = await asyncio.to_thread(lambda: list(cloud.watch(job.id, 0.05)))
        fetched = await asyncio.to_thread(cloud.fetch, job.id, tmp_path / "results")
        jobs = await asyncio.to_thread(cloud.jobs, ["finished"])

    assert [done.entry.path for done in config.uploaded] == ["config/exp1/param.yaml"]
    assert [done.entry.path for done in data.uploaded] == ["data/frames/frames.tif"]
    assert [(entry.path, entry.is_folder) for entry in listed] == [
        ("data/frames/", True),
        ("data/frames/frames.tif", False),
    ]
    assert [result.size for result in downloaded] == [2_000_000]
    assert (tmp_path / "back.tif").read_bytes() == inputs["frames/frames.tif"]
    assert (job.name, job.status, job.application) == ("beads", "queued", "decode:v0_10_1:train")
    assert events[-1].status == "finished"
    assert events[-1].runtime_details == "done"
    assert [(result.remote, result.size) for result in fetched] == [("output/beads/model.pt", 7)]
    assert (tmp_path / "results" / "output" / "model.pt").read_bytes() == b"weights"
    assert [found.id for found in jobs] == [job.id]


async def test_the_async_client_follows_each_status_change_as_it_happens(
    python_client: Client, local_deployment: Deployment, tmp_path: Path
) -> None:
    make_inputs(tmp_path / "in")
    python_client.close()
    store = CredentialStore(tmp_path / "config")
    async with AsyncClient(local_deployment.service.url, store=store) as cloud:
        await cloud.upload([tmp_path / "in" / "exp1"], "config")
        await cloud.upload([tmp_path / "in" / "frames"], "data")
        job = await cloud.submit(SPEC)
        events = cloud.watch(job.id, poll_seconds=0.05)
        seen = [(await anext(events)).status]
        for status in ("pulled", "running", "finished"):
            await local_deployment.service.report_status(job.id, status)
            seen.append((await anext(events)).status)
        rest = [event async for event in events]
        with pytest.raises(ApiError) as missing:
            await cloud.job(job.id + 1)

    assert seen == ["queued", "pulled", "running", "finished"]
    assert rest == []
    assert missing.value.status == 404
    assert missing.value.exit_code == 4


def test_a_client_without_any_login_says_how_to_log_in(tmp_path: Path) -> None:
    with pytest.raises(NotLoggedIn, match="decode-cloud login --url URL"):
        Client(store=CredentialStore(tmp_path / "nothing"))
