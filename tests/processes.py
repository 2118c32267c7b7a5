"""A command in a process of its own, run to its end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


async def run_to_end(
    process: asyncio.subprocess.Process, *, within: float, stdin: bytes | None = None
) -> Finished:
    """What the process wrote once it has ended; killed if it outlasts `within` seconds."""
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())
