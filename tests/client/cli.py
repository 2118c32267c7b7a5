"""`decode-cloud` in a process of its own, as a scientist runs it, with a home of its own."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from decode_cloud.credentials import CredentialStore
from tests.processes import Finished, run_to_end

COMMAND_SECONDS = 120.0


@dataclass(frozen=True)
class Cli:
    home: Path
    """`$HOME`; the configuration and state folders are below it."""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def config_dir(self) -> Path:
        return self.home / "config" / "decode-cloud"

    @property
    def state_dir(self) -> Path:
        return self.home / "state" / "decode-cloud"

    def store(self) -> CredentialStore:
        """The credentials the command line caches, for the Python API of the same user."""
        return CredentialStore(self.config_dir)

    def environ(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
            **self.extra,
        }

    async def start(self, *arguments: str, cwd: Path | None = None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "decode_cloud",
            *arguments,
            env=self.environ(),
            cwd=cwd or self.home,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run(self, *arguments: str, stdin: str = "", cwd: Path | None = None) -> Finished:
        process = await self.start(*arguments, cwd=cwd)
        return await finish(process, stdin)


async def finish(process: asyncio.subprocess.Process, stdin: str = "") -> Finished:
    return await run_to_end(process, within=COMMAND_SECONDS, stdin=stdin.encode())


def assert_ok(finished: Finished) -> Finished:
    assert finished.returncode == 0, finished
    assert "Traceback" not in finished.stderr
    return finished


def assert_one_line_error(finished: Finished, code: int) -> str:
    """The command failed with `code` and said why in one line on standard error."""
    assert finished.returncode == code, finished
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error: ")
    return lines[0]
