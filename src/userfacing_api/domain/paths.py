"""Where things lie in a user's private tree: `UserPath` and its five top folders.

A `UserPath` is normalised once, where a path enters the system, and then passed
as it is: relative to the user's tree, segments separated by `/`, no leading or
trailing slash, the empty path is the root. Since no `..`, NUL, backslash or
control character ever gets in, a `UserPath` cannot lead out of the tree on any
medium that joins it below the user's folder.
"""

from __future__ import annotations

import re
from enum import StrEnum

from userfacing_api.domain.errors import InvalidInput

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]*"
_PLAIN_PATH = re.compile(rf"{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*")
"""Paths already in normal form, as nearly all are: ASCII letters, digits, `.`, `_`
and `-`, no empty segment and no segment that starts with a dot (so no `.` or `..`)."""


class TopFolder(StrEnum):
    """The folders every user's tree always holds."""

    CONFIG = "config"
    DATA = "data"
    ARTIFACT = "artifact"
    OUTPUT = "output"
    LOG = "log"

    @property
    def path(self) -> UserPath:
        return _normalised(self)  # each name is one plain segment, and the member is its text


ROOT_FOLDERS: tuple[TopFolder, ...] = tuple(TopFolder)
UPLOAD_FOLDERS: tuple[TopFolder, ...] = (TopFolder.CONFIG, TopFolder.DATA, TopFolder.ARTIFACT)
"""The top folders users write into; the others are filled by jobs."""


class UserPath(str):
    """A normalised path in a user's tree; `UserPath(raw)` raises `InvalidInput`.

    It is a `str`, so it is shown, compared and stored like the text it holds.
    """

    __slots__ = ()

    def __new__(cls, raw: str = "") -> UserPath:
        return str.__new__(cls, normalise_path(raw))

    @property
    def is_root(self) -> bool:
        return not self

    @property
    def top(self) -> TopFolder | None:
        """The top folder the path lies in (or is), None for the root and other places."""
        head = self.split("/", 1)[0]
        return TopFolder(head) if head in _TOP_NAMES else None

    @property
    def is_reserved(self) -> bool:
        """True for the root and the top folders, which always exist."""
        return self.is_root or (self.top is not None and "/" not in self)

    @property
    def parent(self) -> UserPath:
        """The folder holding the path; the root is its own parent."""
        return _normalised(self.rpartition("/")[0])

    @property
    def name(self) -> str:
        return self.rpartition("/")[2]

    def __truediv__(self, relative: str) -> UserPath:
        """The path `relative` (normalised here, unless it is a `UserPath`) below this one."""
        tail = relative if isinstance(relative, UserPath) else normalise_path(relative)
        return _normalised(self + "/" + tail if self and tail else self or tail)

    def contains(self, other: str) -> bool:
        """True when `other` is this path or lies below it."""
        return self.is_root or other == self or other.startswith(f"{self}/")

    def relative(self, inner: str) -> str:
        """`inner` (at or below this path) relative to this path."""
        return inner[len(self) + 1 :] if self else inner

    def ancestors(self) -> list[UserPath]:
        """`a`, `a/b`, `a/b/c` for `a/b/c`: the folders the path needs, outermost first."""
        segments = self.split("/") if self else []
        return [_normalised("/".join(segments[: index + 1])) for index in range(len(segments))]


_TOP_NAMES = frozenset(TopFolder)


def normalise_path(raw: str) -> str:
    """Return the normalised relative form of `raw`, or raise `InvalidInput`.

    Rejects anything that could leave the user's tree: `..` segments, NUL bytes,
    backslashes and control characters. Leading, trailing and repeated slashes and
    `.` segments are dropped, so `/data//a/./b/` becomes `data/a/b`.

    Lengths count UTF-8 bytes, as file systems and object stores do; text that has
    no UTF-8 form (half a surrogate pair, an undecodable byte kept as one) is refused.
    """
    if len(raw) <= MAX_SEGMENT_LENGTH and _PLAIN_PATH.fullmatch(raw):
        return raw  # one byte per character, so no segment can be too long either
    try:
        encoded = raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Path must be valid UTF-8 text") from None
    if len(encoded) > MAX_PATH_LENGTH:
        raise InvalidInput(f"Path is longer than {MAX_PATH_LENGTH} bytes")
    if "\\" in raw:
        raise InvalidInput("Path must not contain backslashes")
    if _CONTROL_CHARACTER.search(raw):
        raise InvalidInput("Path must not contain control characters")
    segments = [segment for segment in raw.split("/") if segment not in ("", ".")]
    for segment in segments:
        if segment == "..":
            raise InvalidInput("Path must not contain '..'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_LENGTH:
            raise InvalidInput(f"Path segment is longer than {MAX_SEGMENT_LENGTH} bytes")
    return "/".join(segments)


def join(*parts: str) -> str:
    """Join already-normalised paths, skipping empty parts."""
    return "/".join(filter(None, parts))


def _normalised(value: str) -> UserPath:
    """A `UserPath` of text already known to be normalised (built from one)."""
    return str.__new__(UserPath, value)


ROOT = _normalised("")
