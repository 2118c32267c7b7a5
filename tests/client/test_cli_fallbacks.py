"""Against a service without upload sessions and job events (the original, an older
deployment): single-request uploads and polling, with the same results."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.client.cli import Cli, assert_ok, assert_one_line_error, finish
from tests.client.conftest import Deployment, log_in
from tests.client.jobs_helpers import delivered_job, next_line, submit_arguments, upload_inputs
from tests.client.older_service import NOTHING_MISSING, OlderService, older_service

LARGE = 20 * 1024 * 1024
"""Above the size from which the client asks for an upload session."""


@pytest.fixture
async def older(local_deployment: Deployment) -> AsyncIterator[OlderService]:
    async with older_service(local_deployment.service) as service:
        yield service


@pytest.fixture
async def older_scientist(cli: Cli, older: OlderService) -> Cli:
    await log_in(cli, older)
    return cli


async def test_a_large_file_goes_in_one_request_where_there_are_no_sessions(
    older_scientist: Cli, older: OlderService, tmp_path: Path
) -> None:
    content = os.urandom(LARGE)
    (tmp_path / "movie.tif").write_bytes(content)

    uploaded = assert_ok(
        await older_scientist.run("upload", str(tmp_path / "movie.tif"), "data/exp1")
    )
    assert_ok(await older_scientist.run("download", "data/exp1/movie.tif", str(tmp_path / "b")))

    assert uploaded.lines == [
        f"uploaded: {tmp_path / 'movie.tif'} -> data/exp1/movie.tif ({LARGE} bytes)",
        f"1 file(s), {LARGE} bytes uploaded",
    ]
    assert older.refused == ["POST /uploads"]
    assert (tmp_path / "b").read_bytes() == content


async def test_watch_polls_where_there_is_no_event_stream_and_cancel_says_404(
    older_scientist: Cli, older: OlderService, local_deployment: Deployment, tmp_path: Path
) -> None:
    await upload_inputs(older_scientist, tmp_path)
    assert_ok(await older_scientist.run(*submit_arguments("polled")))
    await delivered_job(local_deployment)

    watch = await older_scientist.start("jobs", "watch", "1", "--interval", "0.05")
    queued = await next_line(watch)
    await older.report_status(1, "running")
    running = await next_line(watch)
    await older.report_status(1, "finished", "done")
    finished = await next_line(watch)
    ended = await finish(watch)
    cancel = await older_scientist.run("jobs", "cancel", "1")

    assert [line.split("  ")[1:] for line in (queued, running, finished)] == [
        ["job 1", "queued"],
        ["job 1", "running"],
        ["job 1", "finished", "done"],
    ]
    assert ended.returncode == 0, ended
    assert "GET /jobs/1/events" in older.refused
    assert assert_one_line_error(cancel, 4) == "error: 404: Not Found"


async def test_watch_polling_the_history_shows_statuses_that_came_and_went_between_polls(
    cli: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    async with older_service(local_deployment.service, NOTHING_MISSING, streams=False) as proxy:
        await log_in(cli, proxy)
        await upload_inputs(cli, tmp_path)
        assert_ok(await cli.run(*submit_arguments("brief")))
        await delivered_job(local_deployment)

        watch = await cli.start("jobs", "watch", "1", "--interval", "1")
        queued = await next_line(watch)
        # One right after the other: polling the job alone would likely see only the last.
        await proxy.report_status(1, "running", "epoch 1")
        await proxy.report_status(1, "postprocessing")
        await proxy.report_status(1, "finished", "done")
        later = [await next_line(watch) for _ in range(3)]
        ended = await finish(watch)

    assert [line.split("  ")[1:] for line in (queued, *later)] == [
        ["job 1", "queued"],
        ["job 1", "running", "epoch 1"],
        ["job 1", "postprocessing"],
        ["job 1", "finished", "done"],
    ]
    assert ended.returncode == 0, ended


async def test_single_request_sends_a_large_file_in_one_request_even_with_sessions(
    cli: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    content = os.urandom(LARGE)
    (tmp_path / "movie.tif").write_bytes(content)
    # `/uploads` refused, so any attempt at a session would be listed.
    async with older_service(local_deployment.service) as proxy:
        await log_in(cli, proxy)
        uploaded = assert_ok(
            await cli.run("upload", str(tmp_path / "movie.tif"), "data/exp1", "--single-request")
        )
        assert_ok(await cli.run("download", "data/exp1/movie.tif", str(tmp_path / "b")))

    assert uploaded.lines[-1] == f"1 file(s), {LARGE} bytes uploaded"
    assert proxy.refused == []
    assert (tmp_path / "b").read_bytes() == content
