"""Large uploads through upload sessions: killed half-way, finished by the same command."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from tests.client.cli import Cli, assert_ok, finish
from tests.client.conftest import Deployment
from tests.waiting import polled

SIZE = 100 * 1024 * 1024 + 12345
"""Several parts (the service chooses at least 8 MiB) and a short last one."""
UPLOAD_SECONDS = 60.0


async def open_sessions(cli: Cli, deployment: Deployment) -> list[dict[str, Any]]:
    credentials = cli.store().get(deployment.service.url)
    assert credentials is not None
    sessions: list[dict[str, Any]] = await deployment.service.call(
        "GET", "/uploads", 200, headers={"Authorization": f"Bearer {credentials.id_token}"}
    )
    return sessions


async def test_a_killed_upload_is_finished_by_running_the_same_command_again(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    content = os.urandom(SIZE)
    movie = tmp_path / "movie.tif"
    movie.write_bytes(content)

    first = await scientist.start("upload", str(movie), "data/exp1")
    sessions = await polled(
        lambda: open_sessions(scientist, deployment),
        lambda found: bool(found and found[0]["parts_done"]),
        within=UPLOAD_SECONDS,
    )
    first.send_signal(signal.SIGKILL)
    killed = await finish(first)
    during = assert_ok(await scientist.run("ls", "data/", "-r", "--json"))
    again = assert_ok(await scientist.run("upload", str(movie), "data/exp1"))
    back = assert_ok(await scientist.run("download", "data/exp1/movie.tif", str(tmp_path / "b")))
    left = await open_sessions(scientist, deployment)

    assert killed.returncode == -signal.SIGKILL
    part_count = sessions[0]["part_count"]
    assert part_count > 1
    assert sessions[0]["path"] == "data/exp1/movie.tif"
    assert "movie.tif" not in during.stdout  # never half-written
    assert again.lines[0].startswith(f"uploaded: {movie} -> data/exp1/movie.tif ({SIZE} bytes,")
    assert again.lines[0].endswith(f" of {part_count} parts already sent)")
    assert back.lines[-1] == f"1 file(s), {SIZE} bytes downloaded"
    assert (tmp_path / "b").read_bytes() == content
    assert left == []
