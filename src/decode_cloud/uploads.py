"""Uploading local files and folders, resumably where the service offers upload sessions.

A file of `SESSION_THRESHOLD` bytes or more goes through an upload session
(`POST /uploads`, a PUT per part, `complete`); the session's id is remembered in the
user's state folder under the file's identity (service, target, local path, size and
modification time), so running the same upload again after an interruption sends only
the parts the service does not have yet. Smaller files, every file on a service
without sessions (404 on `/uploads`), and every file when sessions are declined
(`single_request`), go in one multipart request that announces its length.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import humanize
import platformdirs

from decode_cloud.credentials import APP_NAME
from decode_cloud.errors import ApiError, DecodeCloudError, LocalPathError
from decode_cloud.file_body import FileRange
from decode_cloud.files import list_folder, make_folder
from decode_cloud.json_files import read_json_object, write_json_object
from decode_cloud.local_io import CHUNK_SIZE, run_bounded
from decode_cloud.models import FileEntry
from decode_cloud.progress import Reporter, Transfer
from decode_cloud.transport import Connection, remote_path, url_path

SESSION_THRESHOLD = 16 * 1024 * 1024
PARALLEL_PARTS = 4
UPLOADABLE = ("config", "data", "artifact")


@dataclass(frozen=True)
class PlannedFile:
    local: Path
    remote: str
    """The full path the file gets in the user's tree, e.g. `data/exp1/a.tif`."""
    size: int
    modified_ns: int


@dataclass(frozen=True)
class UploadPlan:
    files: list[PlannedFile]
    folders: list[str]
    """Folders to create because they are empty locally."""


@dataclass(frozen=True)
class Uploaded:
    item: PlannedFile
    entry: FileEntry
    """What the service answered for the stored file."""
    resumed: tuple[int, int] | None = None
    """Parts the service already had when this run started, of how many; None if not resumed."""


@dataclass(frozen=True)
class UploadOutcome:
    uploaded: list[Uploaded]
    skipped: list[PlannedFile]
    """Already there with the same size (`skip_existing`)."""


def _target_folder(remote_dir: str) -> str:
    folder = remote_path(remote_dir).rstrip("/")
    if folder.split("/")[0] not in UPLOADABLE:
        raise LocalPathError(
            f"cannot upload into {remote_dir!r}: the target must lie in config/, data/ or artifact/"
        )
    return folder


def plan_upload(sources: list[Path], remote_dir: str) -> UploadPlan:
    """Every file to send and where it goes; folders keep their name (like `cp -r`)."""
    folder = _target_folder(remote_dir)
    files: list[PlannedFile] = []
    empty: list[str] = []

    def add(path: Path, remote: str) -> None:
        stat = path.stat()
        files.append(PlannedFile(path, remote, stat.st_size, stat.st_mtime_ns))

    for source in sources:
        if source.is_file():
            add(source, f"{folder}/{source.name}")
        elif source.is_dir():
            base = f"{folder}/{source.resolve().name}"
            for root, dirs, names in os.walk(source):
                dirs.sort()
                relative = Path(root).relative_to(source).as_posix()
                here = base if relative == "." else f"{base}/{relative}"
                if not dirs and not names:
                    empty.append(here)
                for name in sorted(names):
                    if (Path(root) / name).is_file():
                        add(Path(root) / name, f"{here}/{name}")
        else:
            raise LocalPathError(f"no such file or folder: {source}")
    return UploadPlan(files, empty)


def _same_size(entry: FileEntry, size: int) -> bool:
    if entry.size_bytes is not None:
        return entry.size_bytes == size
    return entry.size == humanize.naturalsize(size)


class SessionState:
    """Upload sessions not completed yet, by file identity, in the user's state folder."""

    def __init__(self, folder: Path | None = None) -> None:
        base = folder or Path(platformdirs.user_state_dir(APP_NAME))
        self.path = base / "uploads.json"

    @staticmethod
    def key(url: str, item: PlannedFile) -> str:
        return json.dumps(
            [url, item.remote, str(item.local.resolve()), item.size, item.modified_ns]
        )

    def get(self, key: str) -> str | None:
        value = read_json_object(self.path).get(key)
        return str(value) if value else None

    def put(self, key: str, upload_id: str | None) -> None:
        data = read_json_object(self.path)
        if upload_id is None:
            data.pop(key, None)
        else:
            data[key] = upload_id
        write_json_object(self.path, data)


class Uploader:
    def __init__(
        self,
        connection: Connection,
        reporter: Reporter,
        state: SessionState,
        session_threshold: int | None = SESSION_THRESHOLD,
        parallel_parts: int = PARALLEL_PARTS,
    ) -> None:
        """`session_threshold`: the size from which files go through upload sessions;
        None sends every file in one request."""
        self._connection = connection
        self._reporter = reporter
        self._state = state
        self._threshold = session_threshold
        self._parallel_parts = parallel_parts
        self._sessions_supported = True
        self._state_lock = asyncio.Lock()

    async def upload(
        self, plan: UploadPlan, remote_dir: str, skip_existing: bool, parallel: int
    ) -> UploadOutcome:
        existing = await self._existing(remote_dir) if skip_existing else {}
        skipped = [
            item
            for item in plan.files
            if item.remote in existing and _same_size(existing[item.remote], item.size)
        ]
        todo = [item for item in plan.files if item not in skipped]
        for folder in plan.folders:
            await make_folder(self._connection, folder)
        uploaded: dict[str, Uploaded] = {}

        def job(item: PlannedFile) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                uploaded[item.remote] = await self.upload_file(item)

            return run

        await run_bounded([job(item) for item in todo], parallel)
        return UploadOutcome([uploaded[item.remote] for item in todo], skipped)

    async def _existing(self, remote_dir: str) -> dict[str, FileEntry]:
        try:
            entries = await list_folder(self._connection, _target_folder(remote_dir), True)
        except ApiError as err:
            if err.status == 404:
                return {}
            raise
        return {entry.path: entry for entry in entries if not entry.is_folder}

    async def upload_file(self, item: PlannedFile) -> Uploaded:
        threshold = self._threshold
        if threshold is not None and item.size >= threshold and self._sessions_supported:
            uploaded = await self._upload_in_parts(item)
            if uploaded is not None:
                return uploaded
        return await self._upload_whole(item)

    async def _upload_whole(self, item: PlannedFile) -> Uploaded:
        folder, _, name = item.remote.rpartition("/")
        kind, _, below = folder.partition("/")
        transfer = self._reporter.transfer(item.remote, item.size)
        with aiohttp.MultipartWriter("form-data") as form:
            part = form.append_payload(FileRange(item.local, transfer, 0, item.size))
            part.set_content_disposition("form-data", name="file", filename=name)
        try:
            answer = await self._connection.json(
                "POST", url_path("files", kind, below, "upload"), data=form
            )
        finally:
            transfer.finish()
        return _checked(item, answer)

    async def _upload_in_parts(self, item: PlannedFile) -> Uploaded | None:
        """The file through an upload session; None when the service has no sessions."""
        key = SessionState.key(self._connection.url, item)
        session = await self._resume(key) or await self._open(item)
        if session is None:
            return None
        async with self._state_lock:
            self._state.put(key, session["upload_id"])
        part_size = int(session["part_size"])
        done = {int(number) for number in session.get("parts_done", [])}
        stored = sum(min(part_size, item.size - (n - 1) * part_size) for n in done)
        transfer = self._reporter.transfer(item.remote, item.size, completed=stored)
        upload_id = str(session["upload_id"])

        def part_job(number: int) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                await self._send_part(item, upload_id, number, part_size, transfer)

            return run

        missing = [n for n in range(1, int(session["part_count"]) + 1) if n not in done]
        try:
            await run_bounded([part_job(n) for n in missing], self._parallel_parts)
            answer = await self._connection.json("POST", url_path("uploads", upload_id, "complete"))
        finally:
            transfer.finish()
        async with self._state_lock:
            self._state.put(key, None)
        part_count = int(session["part_count"])
        return _checked(item, answer, (len(done), part_count) if done else None)

    async def _resume(self, key: str) -> dict[str, Any] | None:
        async with self._state_lock:
            upload_id = self._state.get(key)
        if upload_id is None:
            return None
        try:
            session: dict[str, Any] = await self._connection.json(
                "GET", url_path("uploads", upload_id)
            )
        except ApiError as err:
            if err.status != 404:
                raise
            return None
        return session

    async def _open(self, item: PlannedFile) -> dict[str, Any] | None:
        try:
            session: dict[str, Any] = await self._connection.json(
                "POST", "/uploads", json={"path": item.remote, "size": item.size}
            )
        except ApiError as err:
            if err.status not in (404, 405):
                raise
            self._sessions_supported = False
            return None
        return session

    async def _send_part(
        self, item: PlannedFile, upload_id: str, number: int, part_size: int, transfer: Transfer
    ) -> None:
        request = await self._connection.json(
            "POST", url_path("uploads", upload_id, "parts", str(number))
        )
        offset = (number - 1) * part_size
        length = min(part_size, item.size - offset)
        headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
        headers["Content-Length"] = str(length)
        target = str(request["url"])
        own = target.startswith(self._connection.url + "/")
        if own and not any(name.lower() == "authorization" for name in headers):
            headers.update(await self._connection.authorization())
        async with self._connection.request(
            str(request.get("method", "put")).upper(),
            target,
            authenticated=False,
            headers=headers,
            # Where parts are read in chunks (TLS), those in flight together hold no more
            # memory than a single-request upload.
            data=FileRange(
                item.local, transfer, offset, length, CHUNK_SIZE // self._parallel_parts
            ),
        ):
            pass


def _checked(
    item: PlannedFile, answer: dict[str, Any], resumed: tuple[int, int] | None = None
) -> Uploaded:
    entry = FileEntry.from_json(answer)
    if entry.size_bytes is not None and entry.size_bytes != item.size:
        raise DecodeCloudError(
            f"{item.remote}: the service stored {entry.size_bytes} bytes of {item.size}"
        )
    return Uploaded(item, entry, resumed)
