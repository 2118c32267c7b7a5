"""`AsyncClient`: every operation of the service as a coroutine, for asyncio programs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from decode_cloud import files as file_api
from decode_cloud import jobs as job_api
from decode_cloud.credentials import Credentials, CredentialStore, normalise_url
from decode_cloud.defaults import PARALLEL_FILES, POLL_SECONDS, URL_VARIABLE
from decode_cloud.downloads import Downloaded, Downloader
from decode_cloud.errors import NotLoggedIn
from decode_cloud.login import log_in
from decode_cloud.models import FileEntry, Job, JobEvent, JobSpec
from decode_cloud.progress import Reporter
from decode_cloud.transport import Connection
from decode_cloud.uploads import (
    SESSION_THRESHOLD,
    SessionState,
    Uploader,
    UploadOutcome,
    plan_upload,
)

READ_BUFFER = 4 * 1024 * 1024
"""Bytes aiohttp reads from a socket before waiting for them to be consumed (64 KiB by
default): large enough that a fast download is not paused and resumed all the time."""


def resolve_url(url: str | None, store: CredentialStore) -> str:
    """`url`, else `$DECODE_CLOUD_URL`, else the service of the last login."""
    chosen = url or os.environ.get(URL_VARIABLE) or store.default_url()
    if not chosen:
        raise NotLoggedIn("no service URL: run `decode-cloud login --url URL` first")
    return normalise_url(chosen)


class AsyncClient:
    """A logged-in connection to one service; use as `async with AsyncClient() as client:`.

    `url` defaults to `$DECODE_CLOUD_URL`, else the service of the last `login`; the id
    token comes from the cache `decode-cloud login` fills (or call `login` here).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        store: CredentialStore | None = None,
        reporter: Reporter | None = None,
        state: SessionState | None = None,
    ) -> None:
        self._store = store or CredentialStore()
        self.url = resolve_url(url, self._store)
        self._reporter = reporter or Reporter()
        self._state = state or SessionState()
        self._session: aiohttp.ClientSession | None = None
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._session = aiohttp.ClientSession(read_bufsize=READ_BUFFER)
            self._connection = Connection(
                self.url, self._store.get(self.url), self._store, self._session
            )
        return self._connection

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._connection = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    # Identity

    async def login(self, username: str, password: str, provider: str | None = None) -> str:
        """Log in and cache the id token (and Cognito's refresh token); the provider used."""
        connection = self.connection
        credentials = await log_in(connection.session, self.url, username, password, provider)
        self._store.save(credentials)
        connection.credentials = credentials
        return credentials.provider

    def logout(self) -> bool:
        """Forget the cached login of this service; False if there was none."""
        if self._connection is not None:
            self._connection.credentials = None
        return self._store.remove(self.url)

    @property
    def credentials(self) -> Credentials | None:
        return self.connection.credentials

    async def whoami(self) -> dict[str, Any]:
        """`{"email", "groups"}` of the logged-in user."""
        user: dict[str, Any] = await self.connection.json("GET", "/user")
        return user

    # Files

    async def ls(self, path: str = "", recursive: bool = False) -> list[FileEntry]:
        return await file_api.list_folder(self.connection, path, recursive)

    async def is_folder(self, path: str) -> bool:
        return await file_api.is_folder(self.connection, path)

    async def mkdir(self, path: str) -> None:
        await file_api.make_folder(self.connection, path)

    async def mv(self, source: str, target: str) -> FileEntry:
        return await file_api.move(self.connection, source, target)

    async def rm(self, path: str) -> None:
        await file_api.remove(self.connection, path)

    async def upload(
        self,
        sources: Sequence[str | Path],
        remote_dir: str,
        *,
        skip_existing: bool = False,
        parallel: int = PARALLEL_FILES,
        single_request: bool = False,
    ) -> UploadOutcome:
        """Files and folders (recursively, keeping the folder's name) into `remote_dir`.

        Files of `SESSION_THRESHOLD` bytes or more go through resumable upload sessions
        where the service has them, unless `single_request`.
        """
        plan = await asyncio.to_thread(
            plan_upload, [Path(source) for source in sources], remote_dir
        )
        threshold = None if single_request else SESSION_THRESHOLD
        uploader = Uploader(self.connection, self._reporter, self._state, threshold)
        return await uploader.upload(plan, remote_dir, skip_existing, parallel)

    async def download(
        self, remote: str, local: str | Path, *, as_zip: bool = False
    ) -> list[Downloaded]:
        """A file, or a folder file by file (or as one zip), resuming where a run stopped."""
        return await Downloader(self.connection, self._reporter).download(
            remote, Path(local), as_zip
        )

    # Applications and jobs

    async def applications(self) -> dict[str, Any]:
        return await job_api.applications(self.connection)

    async def submit(self, spec: JobSpec) -> Job:
        return await job_api.submit(self.connection, spec)

    async def jobs(self, statuses: Sequence[str] = ()) -> list[Job]:
        return await job_api.list_jobs(self.connection, statuses)

    async def job(self, job_id: int) -> Job:
        return await job_api.get_job(self.connection, job_id)

    def watch(
        self, job_id: int, poll_seconds: float = POLL_SECONDS
    ) -> AsyncGenerator[JobEvent, None]:
        """The job's status changes, live, until it ends (polling where there is no stream)."""
        return job_api.events(self.connection, job_id, poll_seconds)

    async def cancel(self, job_id: int) -> Job:
        return await job_api.cancel(self.connection, job_id)

    async def delete_job(self, job_id: int) -> None:
        await job_api.delete(self.connection, job_id)

    async def fetch(self, job_id: int, local_dir: str | Path) -> list[Downloaded]:
        """The job's output, log and artifact folders into `local_dir`."""
        downloader = Downloader(self.connection, self._reporter)
        return await job_api.fetch(self.connection, downloader, job_id, Path(local_dir))
