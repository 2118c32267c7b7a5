"""`decode-cloud apps` and `jobs ...` against the running service and a stand-in worker API."""

from __future__ import annotations

import json
from pathlib import Path

from tests.client.cli import Cli, assert_ok, assert_one_line_error, finish
from tests.client.conftest import Deployment
from tests.client.jobs_helpers import (
    OUTPUTS,
    delivered_job,
    next_line,
    submit_arguments,
    upload_inputs,
    write_results,
)


async def test_a_job_is_submitted_followed_to_its_end_and_its_results_fetched(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    await upload_inputs(scientist, tmp_path)
    submitted = assert_ok(await scientist.run(*submit_arguments("beads")))
    job_id = int(submitted.lines[0].split()[2])
    delivered = await delivered_job(deployment)

    watch = await scientist.start("jobs", "watch", str(job_id), "--interval", "0.05")
    first = await next_line(watch)
    await deployment.service.report_status(job_id, "pulled")
    pulled = await next_line(watch)
    await deployment.service.report_status(job_id, "running", "epoch 1 of 2")
    running = await next_line(watch)
    write_results(delivered["paths_upload"], deployment)
    await deployment.service.report_status(job_id, "finished")
    finished = await next_line(watch)
    ended = await finish(watch)
    fetched = assert_ok(await scientist.run("jobs", "fetch", str(job_id), str(tmp_path / "res")))
    again = assert_ok(await scientist.run("jobs", "fetch", str(job_id), str(tmp_path / "res")))

    assert submitted.lines == [f"submitted job {job_id} beads (queued)"]
    assert delivered["priority"] == 2
    assert sorted(delivered["job"]["handler"]["files_down"]) == [
        "config/param.yaml",
        "data/frames.tif",
    ]
    assert first.endswith(f"  job {job_id}  queued")
    assert pulled.endswith(f"  job {job_id}  pulled")
    assert running.endswith(f"  job {job_id}  running  epoch 1 of 2")
    assert f"  job {job_id}  finished" in finished
    assert ended.returncode == 0, ended
    assert ended.stdout == ""
    assert fetched.lines[-1] == f"3 file(s), {sum(map(len, OUTPUTS.values()))} bytes downloaded"
    assert again.lines[-1] == "0 file(s), 0 bytes downloaded; 3 already there"
    assert {
        path.relative_to(tmp_path / "res").as_posix(): path.read_bytes()
        for path in (tmp_path / "res").rglob("*")
        if path.is_file()
    } == OUTPUTS


async def test_a_job_from_a_yaml_file_watched_into_error_exits_with_6(
    local_scientist: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    await upload_inputs(local_scientist, tmp_path)
    job_file = tmp_path / "job.yaml"
    job_file.write_text(
        "name: from-file\napp: decode:v0_10_1:fit\nconfig: exp1\ndata: [frames]\npriority: 1\n"
    )

    submit = await local_scientist.start(
        "jobs", "submit", "--file", str(job_file), "--watch", "--interval", "0.05"
    )
    submitted = await next_line(submit)
    job_id = int(submitted.split()[2])
    queued = await next_line(submit)
    delivered = await delivered_job(local_deployment)
    await local_deployment.service.report_status(job_id, "error", "CUDA out of memory")
    errored = await next_line(submit)
    ended = await finish(submit)

    assert submitted == f"submitted job {job_id} from-file (queued)"
    assert delivered["job"]["handler"]["entrypoint"] == "fit"
    assert queued.endswith("queued")
    assert errored.endswith("error  CUDA out of memory")
    assert ended.returncode == 6
    assert ended.stderr.splitlines() == [f"error: job {job_id} ended with status error"]


async def test_jobs_are_listed_shown_filtered_and_deleted(
    local_scientist: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    await upload_inputs(local_scientist, tmp_path)
    assert_ok(await local_scientist.run(*submit_arguments("first")))
    assert_ok(await local_scientist.run(*submit_arguments("second")))
    await local_deployment.service.report_status(1, "finished", "done in 12 min")

    listed = assert_ok(await local_scientist.run("jobs", "ls"))
    finished = assert_ok(await local_scientist.run("jobs", "ls", "--status", "finished", "--json"))
    shown = assert_ok(await local_scientist.run("jobs", "show", "1"))
    shown_json = assert_ok(await local_scientist.run("jobs", "show", "1", "--json"))
    deleted = assert_ok(await local_scientist.run("jobs", "rm", "1"))
    gone = await local_scientist.run("jobs", "show", "1")

    assert [line.split()[:3] for line in listed.lines] == [
        ["ID", "STATUS", "APPLICATION"],
        ["2", "queued", "decode:v0_10_1:train"],
        ["1", "finished", "decode:v0_10_1:train"],
    ]
    assert [job["job_name"] for job in json.loads(finished.stdout)] == ["first"]
    assert "status:           finished" in shown.lines
    assert shown.lines[-2:] == ["runtime details:", "  done in 12 min"]
    assert json.loads(shown_json.stdout)["paths_out"]["output"] == "output/first"
    assert deleted.lines == ["deleted job 1 and its output, log and artifact folders"]
    assert assert_one_line_error(gone, 4) == "error: 404: Job 1 not found"


async def test_apps_lists_the_catalogue_and_refusals_print_the_detail(
    local_scientist: Cli, tmp_path: Path
) -> None:
    await upload_inputs(local_scientist, tmp_path)

    apps = assert_ok(await local_scientist.run("apps"))
    catalogue = assert_ok(await local_scientist.run("apps", "--json"))
    forbidden = await local_scientist.run(*submit_arguments("x"), "--env", "SECRET=1")
    bad_app = await local_scientist.run(*submit_arguments("y")[:-2], "--app", "decode")
    missing = await local_scientist.run("jobs", "submit", "--name", "z")

    assert apps.lines == [
        "comet:latest:run",
        "decode:latest:train",
        "decode:v0_10_1:fit",
        "decode:v0_10_1:train",
    ]
    assert set(json.loads(catalogue.stdout)["decode"]) == {"latest", "v0_10_1"}
    assert "SECRET" in assert_one_line_error(forbidden, 5)
    assert "application:version:entrypoint" in assert_one_line_error(bad_app, 2)
    assert assert_one_line_error(missing, 2) == (
        "error: jobs submit needs --app, --config (or the keys in --file)"
    )
