"""The floor: a bare aiohttp app doing the hot endpoints' essential work and nothing else.

No middleware, no token, no validation, no schema: the same SQL through the same
driver, laid out as the service lays it out (aiosqlite with one connection and a
lock for writes and a second connection for reads, or an asyncpg pool), the rows
as dicts, encoded with orjson; a folder listed with `os.scandir` in a thread.
A status report is first one read of the job and whether its delivery is still
pending; only a report that changes something, or ends a delivery, takes the
write transaction, as in the service. The service is measured against it in the
same run, so the ratio shows what the service's own layers cost, whatever the
machine.

Run as `python -m bench.floor` with FLOOR_DATABASE_URL, FLOOR_USER_FOLDER,
FLOOR_USER_ID and FLOOR_PORT in the environment.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import asyncpg
import orjson
from aiohttp import web

_COLUMNS = (
    "SELECT id, user_id, user_email, job_name, status, environment, priority,"
    " application, version, entrypoint, attributes, hardware,"
    " date_created, date_started, date_finished, runtime_details FROM jobs"
)
_ONE = _COLUMNS + " WHERE id = $1"
_REPORTED = (
    "SELECT status, runtime_details,"
    " EXISTS (SELECT 1 FROM job_deliveries WHERE job_deliveries.job_id = jobs.id) AS pending"
    " FROM jobs WHERE id = $1"
)
_PAGE = _COLUMNS + " WHERE user_id = $1 ORDER BY date_created DESC, id DESC LIMIT $2 OFFSET $3"
_SAVE = (
    "UPDATE jobs SET status = $1, date_started = $2, date_finished = $3, runtime_details = $4"
    " WHERE id = $5"
)
_END_DELIVERY = "DELETE FROM job_deliveries WHERE job_id = $1"

Rows = list[dict[str, Any]]


class _Sqlite:
    def __init__(self, connection: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._connection = connection
        self._reader = reader
        self._lock = asyncio.Lock()

    async def fetch(self, sql: str, *parameters: Any) -> Rows:
        rows = await self._reader.execute_fetchall(sql.replace("$", "?"), parameters)
        return [dict(row) for row in rows]

    async def write_status(self, job_id: int, status: str, details: str | None) -> bool:
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                rows = await self._connection.execute_fetchall(_ONE.replace("$", "?"), (job_id,))
                row = next(iter(rows), None)
                if row is not None and (row["status"], row["runtime_details"]) != (status, details):
                    started = row["date_started"] or _now().isoformat()
                    await self._connection.execute(
                        _SAVE.replace("$", "?"), (status, started, None, details, job_id)
                    )
                if row is not None:
                    await self._connection.execute(_END_DELIVERY.replace("$", "?"), (job_id,))
            finally:
                await self._connection.execute("COMMIT")
        return row is not None


class _Postgres:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fetch(self, sql: str, *parameters: Any) -> Rows:
        return [dict(row) for row in await self._pool.fetch(sql, *parameters)]

    async def write_status(self, job_id: int, status: str, details: str | None) -> bool:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(_ONE + " FOR NO KEY UPDATE", job_id)
            if row is not None and (row["status"], row["runtime_details"]) != (status, details):
                started = row["date_started"] or _now()
                await connection.execute(_SAVE, status, started, None, details, job_id)
            if row is not None:
                await connection.execute(_END_DELIVERY, job_id)
        return row is not None


async def _report(
    database: _Sqlite | _Postgres, job_id: int, status: str, details: str | None
) -> bool:
    """One read, and the write transaction only for a report that changes something."""
    reported = await database.fetch(_REPORTED, job_id)
    if not reported:
        return False
    if not _needs_writing(reported[0], status, details):
        return True
    return await database.write_status(job_id, status, details)


def _needs_writing(reported: dict[str, Any], status: str, details: str | None) -> bool:
    return bool(reported["pending"]) or (reported["status"], reported["runtime_details"]) != (
        status,
        details,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _json(document: Any) -> web.Response:
    return web.Response(body=orjson.dumps(document), content_type="application/json")


@asynccontextmanager
async def _database(url: str) -> AsyncIterator[_Sqlite | _Postgres]:
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:///")
        connection = await aiosqlite.connect(path, isolation_level=None)
        reader = await aiosqlite.connect(path, isolation_level=None)
        for opened in (connection, reader):
            opened.row_factory = sqlite3.Row
            await opened.execute("PRAGMA busy_timeout=5000")
        await connection.execute("PRAGMA synchronous=NORMAL")
        try:
            yield _Sqlite(connection, reader)
        finally:
            await reader.close()
            await connection.close()
    else:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=10, reset=_no_reset)
        try:
            yield _Postgres(pool)
        finally:
            await pool.close()


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """As in the service: a connection given back needs no `RESET ALL` round trip."""


def _listing(folder: str) -> Rows:
    entries = []
    with os.scandir(folder) as found:
        for entry in found:
            info = entry.stat(follow_symlinks=False)
            if entry.is_dir(follow_symlinks=False):
                entries.append({"path": f"{entry.name}/", "type": "directory", "size": ""})
            else:
                entries.append({"path": entry.name, "type": "file", "size": str(info.st_size)})
    return sorted(entries, key=lambda entry: entry["path"])


def floor_app(database_url: str, user_folder: str, user_id: str) -> web.Application:
    routes = web.RouteTableDef()
    databases: list[_Sqlite | _Postgres] = []

    @routes.get("/health")
    async def health(_: web.Request) -> web.Response:
        return _json({"status": "ok"})

    @routes.get("/jobs/{job_id}")
    async def get_job(request: web.Request) -> web.Response:
        rows = await databases[0].fetch(_ONE, int(request.match_info["job_id"]))
        if not rows:
            raise web.HTTPNotFound()
        return _json(rows[0])

    @routes.get("/jobs")
    async def list_jobs(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "100"))
        offset = int(request.query.get("offset", "0"))
        return _json(await databases[0].fetch(_PAGE, user_id, limit, offset))

    @routes.put("/_job_status")
    async def job_status(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        found = await _report(databases[0], body["job_id"], body["status"], body["runtime_details"])
        if not found:
            raise web.HTTPNotFound()
        return _json(body["status"])

    @routes.get("/files/")
    async def list_root(_: web.Request) -> web.Response:
        return _json(await asyncio.to_thread(_listing, user_folder))

    async def database(_: web.Application) -> AsyncIterator[None]:
        async with _database(database_url) as opened:
            databases.append(opened)
            yield

    app = web.Application()
    app.cleanup_ctx.append(database)
    app.add_routes(routes)
    return app


def main() -> None:
    web.run_app(
        floor_app(
            os.environ["FLOOR_DATABASE_URL"],
            os.environ["FLOOR_USER_FOLDER"],
            os.environ["FLOOR_USER_ID"],
        ),
        host="127.0.0.1",
        port=int(os.environ["FLOOR_PORT"]),
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
