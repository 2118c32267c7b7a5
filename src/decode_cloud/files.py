"""Listing, creating, renaming and deleting files and folders of the user's tree."""

from __future__ import annotations

from decode_cloud.errors import ApiError
from decode_cloud.models import FileEntry
from decode_cloud.transport import Connection, remote_path, url_path


async def list_folder(
    connection: Connection, path: str = "", recursive: bool = False
) -> list[FileEntry]:
    """The entries of a folder (the root with `""`); `ApiError` 404 when it is not a folder."""
    folder = remote_path(path).rstrip("/")
    params = {"show_dirs": "true", "recursive": "true" if recursive else "false"}
    answer = await connection.json("GET", url_path("files", folder), params=params)
    return [FileEntry.from_json(item) for item in answer]


async def is_folder(connection: Connection, path: str) -> bool:
    """True for an existing folder; False for a file or nothing (the listing says 404)."""
    folder = remote_path(path).rstrip("/")
    try:
        async with connection.request(
            "GET", url_path("files", folder), params={"show_dirs": "true"}
        ):
            return True
    except ApiError as err:
        if err.status == 404:
            return False
        raise


async def make_folder(connection: Connection, path: str) -> None:
    """Create `type/dir/...` (and the folders above it)."""
    folder = remote_path(path).rstrip("/")
    await connection.json("POST", url_path("files", folder) + "/")


async def move(connection: Connection, source: str, target: str) -> FileEntry:
    answer = await connection.json(
        "PUT", url_path("files", remote_path(source).rstrip("/")), json={"path": target}
    )
    return FileEntry.from_json(answer)


async def remove(connection: Connection, path: str) -> None:
    await connection.json("DELETE", url_path("files", remote_path(path).rstrip("/")))
