"""Inputs, submissions and the worker's side of a job, for the client's job tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import boto3

from tests.client.cli import Cli, assert_ok
from tests.client.conftest import Deployment
from tests.integration.s3_support import BUCKET_REGION

LINE_SECONDS = 30.0
OUTPUTS = {
    "output/model.pt": b"\x00weights" * 1000,
    "output/emitters/set.h5": b"emitters",
    "log/train.log": b"epoch 1\nepoch 2\n",
}


async def upload_inputs(scientist: Cli, tmp_path: Path) -> None:
    (tmp_path / "exp1").mkdir()
    (tmp_path / "exp1" / "param.yaml").write_text("Hardware:\n  device: cuda\n")
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "frames.tif").write_bytes(b"II*\x00" + bytes(1000))
    assert_ok(await scientist.run("upload", str(tmp_path / "exp1"), "config/", "-q"))
    assert_ok(await scientist.run("upload", str(tmp_path / "frames"), "data/", "-q"))


def submit_arguments(name: str) -> list[str]:
    return [
        "jobs",
        "submit",
        "--name",
        name,
        "--app",
        "decode:v0_10_1:train",
        "--config",
        "exp1",
        "--data",
        "frames",
        "--priority",
        "2",
    ]


async def next_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), LINE_SECONDS)
    return line.decode().rstrip("\n")


def write_results(paths_upload: dict[str, str], deployment: Deployment) -> None:
    """What the worker does at the end of a job: its files under the upload URIs."""
    for relative, content in OUTPUTS.items():
        kind, _, rest = relative.partition("/")
        uri = f"{paths_upload[kind]}/{rest}"
        if deployment.storage == "s3":
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            boto3.client("s3", region_name=BUCKET_REGION).put_object(
                Bucket=bucket, Key=key, Body=content
            )
        else:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            Path(uri).write_bytes(content)


async def delivered_job(deployment: Deployment, count: int = 1) -> dict[str, Any]:
    received = await deployment.worker.wait_for_jobs(count, timeout=LINE_SECONDS)
    body: dict[str, Any] = received[count - 1].body
    return body
