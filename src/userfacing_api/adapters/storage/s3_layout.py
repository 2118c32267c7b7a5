"""Where a user's file lives in the bucket, in the layout of the original service.

The tree of user `u` is every key below `{prefix}/u/` (`u/` when the prefix is
empty). A file is an object under its path; a folder is a zero-byte object whose
key ends in `/`, or simply the common prefix of the objects below it, since
uploads through a presigned POST never write folder objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.domain.errors import DomainError
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath, join, normalise_path


@dataclass(frozen=True)
class S3Layout:
    bucket: str
    prefix: str
    """The root of every user's tree, without leading or trailing slashes; may be empty."""

    def user_root(self, user_id: UserId) -> str:
        """The key prefix of the user's tree, ending in `/`."""
        return join(self.prefix, user_id) + "/"

    def key(self, user_id: UserId, path: UserPath) -> str:
        """The key of the file at `path`."""
        return self.user_root(user_id) + path

    def folder_key(self, user_id: UserId, path: UserPath) -> str:
        """The key of the folder object at `path`: the prefix of everything below it."""
        return self.user_root(user_id) + (f"{path}/" if path else "")

    def uri(self, user_id: UserId, path: UserPath) -> str:
        return f"s3://{self.bucket}/{join(self.prefix, user_id, path)}"

    def path_of(self, user_id: UserId, key: str) -> str | None:
        """The path in the user's tree of an object listed below the user's root.

        None for the root itself and for keys no normalised path names (such as
        `a//b`, which other writers of the bucket could have created).
        """
        relative = key.removeprefix(self.user_root(user_id)).removesuffix("/")
        try:
            normalised = normalise_path(relative)
        except DomainError:
            return None
        return normalised if normalised and normalised == relative else None
