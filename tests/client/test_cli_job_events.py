"""Jobs on a service with job events: the live stream and cancelling."""

from __future__ import annotations

from pathlib import Path

from tests.client.cli import Cli, assert_ok, finish
from tests.client.conftest import Deployment
from tests.client.jobs_helpers import next_line, submit_arguments, upload_inputs


async def test_watch_prints_the_streamed_history_and_a_cancel_ends_it_with_6(
    local_scientist: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    await upload_inputs(local_scientist, tmp_path)
    assert_ok(await local_scientist.run(*submit_arguments("to-cancel")))
    await local_deployment.worker.wait_for_jobs(1)
    await local_deployment.service.report_status(1, "pulled")
    await local_deployment.service.report_status(1, "running", "epoch 1")

    # A poll every 10 minutes: every line below comes from the event stream.
    watch = await local_scientist.start("jobs", "watch", "1", "--interval", "600")
    history = [await next_line(watch) for _ in range(3)]
    cancelled = assert_ok(await local_scientist.run("jobs", "cancel", "1"))
    last = await next_line(watch)
    ended = await finish(watch)
    again = await local_scientist.run("jobs", "cancel", "1")
    shown = assert_ok(await local_scientist.run("jobs", "show", "1"))

    assert [line.split("  ")[1:] for line in history] == [
        ["job 1", "queued"],
        ["job 1", "pulled"],
        ["job 1", "running", "epoch 1"],
    ]
    assert cancelled.lines == ["job 1 to-cancel: cancelled"]
    assert last.split("  ")[1:3] == ["job 1", "cancelled"]
    assert ended.returncode == 6
    assert ended.stderr.splitlines() == ["error: job 1 ended with status cancelled"]
    assert again.returncode == 5
    assert again.stderr.startswith("error: 409: ")
    assert "status:           cancelled" in shown.lines
