"""Filtered job listings are read in newest-first order from an index, never sorted whole."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.integration.test_migrations import empty_postgres_url as empty_postgres_url
from tests.integration.test_migrations import migrate, rows
from userfacing_api.adapters.db.job_store import listing_query
from userfacing_api.domain.jobs import JobFilter, JobStatus

RUNNING = JobFilter(statuses=frozenset({JobStatus.RUNNING}))
DECODE = JobFilter(application="decode")


async def sqlite_plan(tmp_path: Path, only: JobFilter) -> str:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    await migrate(url)
    listing, parameters = listing_query("alice", 0, 100, only)
    plan = await rows(url, "EXPLAIN QUERY PLAN " + listing.replace("$", "?"), *parameters)
    return " | ".join(str(step[-1]) for step in plan)


async def postgres_plan(url: str, only: JobFilter) -> str:
    await migrate(url)
    connection = await asyncpg.connect(url)
    try:
        # An empty table is read whole whatever the indexes; ask what the indexes allow.
        await connection.execute("SET enable_seqscan = off")
        listing, parameters = listing_query("alice", 0, 100, only)
        plan = await connection.fetch("EXPLAIN " + listing, *parameters)
    finally:
        await connection.close()
    return "\n".join(step[0] for step in plan)


async def test_sqlite_reads_one_status_in_order_from_its_index(tmp_path: Path) -> None:
    steps = await sqlite_plan(tmp_path, RUNNING)

    assert "USING INDEX jobs_user_status_created (user_id=? AND status=?)" in steps, steps
    assert "TEMP B-TREE" not in steps, steps


async def test_sqlite_reads_one_application_in_order_from_its_index(tmp_path: Path) -> None:
    steps = await sqlite_plan(tmp_path, DECODE)

    assert "USING INDEX jobs_user_application_created (user_id=? AND application=?)" in steps
    assert "TEMP B-TREE" not in steps, steps


@pytest.mark.postgres
async def test_postgres_reads_one_status_in_order_from_its_index(
    empty_postgres_url: str,
) -> None:
    steps = await postgres_plan(empty_postgres_url, RUNNING)

    assert "Index Scan Backward using jobs_user_status_created on jobs" in steps, steps
    assert "Sort" not in steps, steps


@pytest.mark.postgres
async def test_postgres_reads_one_application_in_order_from_its_index(
    empty_postgres_url: str,
) -> None:
    steps = await postgres_plan(empty_postgres_url, DECODE)

    assert "Index Scan Backward using jobs_user_application_created on jobs" in steps, steps
    assert "Sort" not in steps, steps
