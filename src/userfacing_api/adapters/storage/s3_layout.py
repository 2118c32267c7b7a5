"""Where a user's file lives in the bucket, in the layout of the original service.

The tree of user `u` is every key below `{prefix}/u/` (`u/` when the prefix is
empty). A file is an object under its path; a folder is a zero-byte object whose
key ends in `/`, or simply the common prefix of the objects below it, since
uploads through a presigned POST never write folder objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from userfacing_api.domain.errors import DomainError, InvalidInput
from userfacing_api.domain.files import join, normalise_path
from userfacing_api.service_layer.files import check_user_id


@dataclass(frozen=True)
class S3Layout:
    bucket: str
    prefix: str
    """The root of every user's tree, without leading or trailing slashes; may be empty."""

    def check(self, user_id: str, path: str) -> None:
        """Raise `InvalidInput` unless `user_id` and `path` name a place in a user's tree."""
        check_user_id(user_id)
        _checked(path)

    def user_root(self, user_id: str) -> str:
        """The key prefix of the user's tree, ending in `/`."""
        return join(self.prefix, check_user_id(user_id)) + "/"

    def key(self, user_id: str, path: str) -> str:
        """The key of the file at `path`."""
        return self.user_root(user_id) + _checked(path)

    def folder_key(self, user_id: str, path: str) -> str:
        """The key of the folder object at `path`: the prefix of everything below it."""
        checked = _checked(path)
        return self.user_root(user_id) + (f"{checked}/" if checked else "")

    def uri(self, user_id: str, path: str) -> str:
        return f"s3://{self.bucket}/{join(self.prefix, check_user_id(user_id), _checked(path))}"

    def path_of(self, user_id: str, key: str) -> str | None:
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


def ancestors(path: str) -> list[str]:
    """`a`, `a/b`, `a/b/c` for `a/b/c`: the folders a path needs, outermost first."""
    segments = path.split("/") if path else []
    return ["/".join(segments[: index + 1]) for index in range(len(segments))]


def _checked(path: str) -> str:
    if normalise_path(path) != path:
        raise InvalidInput(f"Path {path!r} is not normalised")
    return path
