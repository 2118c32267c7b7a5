"""Downloading files (resumable with `Range`), folders file by file, or folders as one zip.

A file is written to `<name>.part` beside its destination and renamed when complete,
so a file with its final name is always whole; an interrupted download leaves the
`.part` file, and the next download of the same file asks only for the bytes after it.
Beside it, `<name>.part.json` keeps the version of the file those bytes came from (its
`ETag`, else its `Last-Modified`); the next request names it in `If-Range`, so a file
changed on the service in between comes whole again instead of being spliced.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

import aiofiles
import aiofiles.os
import aiohttp

from decode_cloud.defaults import PARALLEL_FILES
from decode_cloud.errors import DecodeCloudError
from decode_cloud.files import is_folder, list_folder
from decode_cloud.json_files import read_json_object, write_json_object
from decode_cloud.local_io import run_bounded, write_chunks
from decode_cloud.models import FileEntry
from decode_cloud.progress import Reporter
from decode_cloud.transport import Connection, remote_path, url_path

AS_STORED = {"Accept-Encoding": "identity"}
"""Downloads ask for the bytes as stored and take them undecoded (`auto_decompress`
off): ranges then count bytes of the file, and no decoder sits on the way."""
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)|bytes \*/(\d+)")


@dataclass(frozen=True)
class Downloaded:
    remote: str
    local: Path
    size: int
    skipped: bool = False
    """Already there with the same size; nothing was transferred."""


def partial_path(local: Path) -> Path:
    return local.with_name(local.name + ".part")


def version_path(local: Path) -> Path:
    """Where the version of the bytes in the `.part` file is kept."""
    return local.with_name(local.name + ".part.json")


def _version_of(response: aiohttp.ClientResponse) -> str | None:
    """What `If-Range` can name: a strong `ETag`, else `Last-Modified`; None without either."""
    etag = response.headers.get("ETag", "").strip()
    if etag.startswith('"'):
        return etag
    return response.headers.get("Last-Modified") or None


async def _read_version(local: Path) -> str | None:
    value = (await asyncio.to_thread(read_json_object, version_path(local))).get("version")
    return value if isinstance(value, str) and value else None


async def _keep_version(local: Path, version: str | None) -> None:
    """Remember `version` for the bytes about to be written (forget it when None)."""
    if version is None:
        await _forget_version(local)
    else:
        await asyncio.to_thread(write_json_object, version_path(local), {"version": version})


async def _forget_version(local: Path) -> None:
    await asyncio.to_thread(version_path(local).unlink, missing_ok=True)


def _range_start(response: aiohttp.ClientResponse) -> int:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match and match.group(1) else -1


async def _pieces(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body as aiohttp received it, without copying it into chunks of a fixed size."""
    async for piece, _ in response.content.iter_chunks():
        yield piece


async def _size_of(path: Path) -> int | None:
    """The size of a regular file; None when there is none."""
    try:
        stat = await aiofiles.os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_size if S_ISREG(stat.st_mode) else None


async def _complete(partial: Path, local: Path, remote: str) -> Downloaded:
    await aiofiles.os.replace(partial, local)
    await _forget_version(local)
    return Downloaded(remote, local, (await aiofiles.os.stat(local)).st_size)


class Downloader:
    def __init__(self, connection: Connection, reporter: Reporter) -> None:
        self._connection = connection
        self._reporter = reporter

    async def download(self, remote: str, local: Path, as_zip: bool = False) -> list[Downloaded]:
        """`remote` (file or folder) into `local`, with `cp -r`'s rules for the name."""
        remote = remote_path(remote).rstrip("/")
        name = remote.rsplit("/", 1)[-1] or "files"
        into = await aiofiles.os.path.isdir(local)
        if not await is_folder(self._connection, remote):
            return [await self.download_file(remote, local / name if into else local)]
        if as_zip:
            return [await self.download_zip(remote, local / f"{name}.zip" if into else local)]
        return await self.download_folder(remote, local / name if into else local)

    async def download_folder(
        self, remote: str, local: Path, parallel: int = PARALLEL_FILES
    ) -> list[Downloaded]:
        """Every file below `remote` into `local`; files already complete are skipped."""
        entries = await list_folder(self._connection, remote, recursive=True)
        prefix = remote_path(remote).rstrip("/") + "/"
        await aiofiles.os.makedirs(local, exist_ok=True)
        results: list[Downloaded] = []

        def job(entry: FileEntry) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                results.append(await self._folder_member(entry, local / entry.path[len(prefix) :]))

            return run

        for entry in entries:
            if entry.is_folder:
                await aiofiles.os.makedirs(local / entry.path[len(prefix) :], exist_ok=True)
        files = [entry for entry in entries if not entry.is_folder]
        await run_bounded([job(entry) for entry in files], parallel)
        return sorted(results, key=lambda result: result.remote)

    async def _folder_member(self, entry: FileEntry, local: Path) -> Downloaded:
        size = await _size_of(local)
        if size is not None and entry.size_bytes in (None, size):
            return Downloaded(entry.path, local, size, skipped=True)
        return await self.download_file(entry.path, local, entry.size_bytes)

    async def download_file(
        self, remote: str, local: Path, expected: int | None = None
    ) -> Downloaded:
        await aiofiles.os.makedirs(local.parent, exist_ok=True)
        partial = partial_path(local)
        offset = await _size_of(partial) or 0
        if expected is not None and offset > expected:
            offset = 0
        headers = dict(AS_STORED)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            version = await _read_version(local)
            if version is not None:
                headers["If-Range"] = version
        path = url_path("files", remote, "download")
        async with self._connection.request(
            "GET", path, headers=headers, allow=frozenset({416}), auto_decompress=False
        ) as response:
            if response.status == 416:
                # Everything is already in the `.part` file, or it is longer than the file.
                total = self._total_of_unsatisfiable(response)
                if total != offset:
                    await aiofiles.os.remove(partial)
                    await _forget_version(local)
                    return await self.download_file(remote, local, expected)
            else:
                if response.status != 206 or _range_start(response) != offset:
                    offset = 0  # the whole file: another version, or no ranges served
                if offset == 0:
                    await _keep_version(local, _version_of(response))
                await self._write(response, partial, offset, remote)
        return await _complete(partial, local, remote)

    @staticmethod
    def _total_of_unsatisfiable(response: aiohttp.ClientResponse) -> int:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        return int(match.group(4)) if match and match.group(4) else -1

    async def download_zip(self, remote: str, local: Path) -> Downloaded:
        """The folder as one zip, made by the service on the fly (not resumable)."""
        await aiofiles.os.makedirs(local.parent, exist_ok=True)
        partial = partial_path(local)
        path = url_path("files", remote, "download")
        async with self._connection.request(
            "GET", path, headers=AS_STORED, auto_decompress=False
        ) as response:
            await self._write(response, partial, 0, remote + ".zip")
        return await _complete(partial, local, remote)

    async def _write(
        self, response: aiohttp.ClientResponse, partial: Path, offset: int, label: str
    ) -> None:
        length = response.content_length
        total = None if length is None else offset + length
        transfer = self._reporter.transfer(label, total, completed=offset)
        try:
            written = await write_chunks(partial, _pieces(response), offset > 0, transfer)
        finally:
            transfer.finish()
        if length is not None and written != length:
            raise DecodeCloudError(f"{label}: the connection ended after {written} of {length}")
