"""What commands print: plain aligned text for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from decode_cloud.models import FileEntry, Job

if TYPE_CHECKING:
    from decode_cloud.downloads import Downloaded


def say(line: str = "") -> None:
    print(line, flush=True)


def note(line: str) -> None:
    """A message for the person at the terminal, on standard error."""
    print(line, file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    say(json.dumps(value, indent=2))


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as columns padded to the widest cell; the last column is never padded."""
    if not rows:
        return
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        say("  ".join([*cells, row[-1]]).rstrip())


def print_entries(entries: Sequence[FileEntry]) -> None:
    print_table(
        [("SIZE", "MODIFIED", "PATH")]
        + [(entry.size or "-", entry.modified or "-", entry.path) for entry in entries]
    )


def print_jobs(jobs: Sequence[Job]) -> None:
    print_table(
        [("ID", "STATUS", "APPLICATION", "CREATED", "NAME")]
        + [
            (str(job.id), job.status, job.application, job.date_created or "-", job.name)
            for job in jobs
        ]
    )


def print_job(job: Job) -> None:
    rows = [
        ("id", str(job.id)),
        ("name", job.name),
        ("status", job.status),
        ("application", job.application),
        ("created", job.date_created or "-"),
        ("started", job.date_started or "-"),
        ("finished", job.date_finished or "-"),
        *((f"{kind} folder", path) for kind, path in sorted(job.paths_out.items())),
    ]
    print_table([(f"{key}:", value) for key, value in rows])
    if job.runtime_details:
        say("runtime details:")
        for line in job.runtime_details.splitlines():
            say(f"  {line}")


def print_downloads(results: Sequence[Downloaded], quiet: bool) -> None:
    fetched = [result for result in results if not result.skipped]
    if not quiet:
        for result in results:
            verb = "already there" if result.skipped else "downloaded"
            say(f"{verb}: {result.remote} -> {result.local} ({result.size} bytes)")
    total = sum(result.size for result in fetched)
    skipped = len(results) - len(fetched)
    say(
        f"{len(fetched)} file(s), {total} bytes downloaded"
        + (f"; {skipped} already there" if skipped else "")
    )
