"""`Client`: the same operations as `AsyncClient`, callable from ordinary (and notebook) code.

The coroutines run on an event loop in a thread of the client's own, so a `Client`
also works where a loop is already running in the caller's thread (Jupyter).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from decode_cloud.aio import AsyncClient
from decode_cloud.credentials import CredentialStore
from decode_cloud.defaults import PARALLEL_FILES, POLL_SECONDS
from decode_cloud.downloads import Downloaded
from decode_cloud.models import FileEntry, Job, JobEvent, JobSpec
from decode_cloud.progress import Reporter
from decode_cloud.uploads import SessionState, UploadOutcome

T = TypeVar("T")


class Client:
    """`Client(url=None)`: the service of the last `decode-cloud login` unless `url` is given.

    >>> with Client() as cloud:
    ...     cloud.upload(["exp1"], "data/")
    ...     job = cloud.submit(JobSpec(name="beads", app="decode:v0_10_1:train",
    ...                                config="exp1", data=["exp1"]))
    ...     for event in cloud.watch(job.id):
    ...         print(event.status)
    ...     cloud.fetch(job.id, "results")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        store: CredentialStore | None = None,
        reporter: Reporter | None = None,
        state: SessionState | None = None,
    ) -> None:
        self._async = AsyncClient(url, store=store, reporter=reporter, state=state)
        self.url = self._async.url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="decode-cloud", daemon=True
        )
        self._thread.start()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def login(self, username: str, password: str, provider: str | None = None) -> str:
        return self._run(self._async.login(username, password, provider))

    def logout(self) -> bool:
        return self._async.logout()

    def whoami(self) -> dict[str, Any]:
        return self._run(self._async.whoami())

    def ls(self, path: str = "", recursive: bool = False) -> list[FileEntry]:
        return self._run(self._async.ls(path, recursive))

    def mkdir(self, path: str) -> None:
        self._run(self._async.mkdir(path))

    def mv(self, source: str, target: str) -> FileEntry:
        return self._run(self._async.mv(source, target))

    def rm(self, path: str) -> None:
        self._run(self._async.rm(path))

    def upload(
        self,
        sources: Sequence[str | Path],
        remote_dir: str,
        *,
        skip_existing: bool = False,
        parallel: int = PARALLEL_FILES,
        single_request: bool = False,
    ) -> UploadOutcome:
        return self._run(
            self._async.upload(
                sources,
                remote_dir,
                skip_existing=skip_existing,
                parallel=parallel,
                single_request=single_request,
            )
        )

    def download(self, remote: str, local: str | Path, *, as_zip: bool = False) -> list[Downloaded]:
        return self._run(self._async.download(remote, local, as_zip=as_zip))

    def applications(self) -> dict[str, Any]:
        return self._run(self._async.applications())

    def submit(self, spec: JobSpec) -> Job:
        return self._run(self._async.submit(spec))

    def jobs(self, statuses: Sequence[str] = ()) -> list[Job]:
        return self._run(self._async.jobs(statuses))

    def job(self, job_id: int) -> Job:
        return self._run(self._async.job(job_id))

    def watch(self, job_id: int, poll_seconds: float = POLL_SECONDS) -> Iterator[JobEvent]:
        """The job's status changes as they happen, until it ends."""
        stream = self._async.watch(job_id, poll_seconds)

        async def following() -> JobEvent:
            return await anext(stream)

        try:
            while True:
                try:
                    yield self._run(following())
                except StopAsyncIteration:
                    return
        finally:
            self._run(stream.aclose())

    def cancel(self, job_id: int) -> Job:
        return self._run(self._async.cancel(job_id))

    def delete_job(self, job_id: int) -> None:
        self._run(self._async.delete_job(job_id))

    def fetch(self, job_id: int, local_dir: str | Path) -> list[Downloaded]:
        return self._run(self._async.fetch(job_id, local_dir))
