"""Upload sessions: one file sent as numbered parts, in any order, over many requests.

The part size is chosen here from the declared size so that every storage can
take the parts: S3 wants at most 10,000 parts of at least 5 MiB (but the last)
and at most 5 GiB each, and objects of at most 5 TiB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from userfacing_api.domain.errors import InvalidInput, TooLarge
from userfacing_api.domain.files import FileInfo
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB
MIN_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
MAX_UPLOAD_SIZE = 5 * TiB
"""The largest object S3 holds; the local storage keeps the same limit."""
PART_SIZE_STEP = MiB


@dataclass(frozen=True)
class PartPlan:
    """How a file of `size` bytes is cut: `part_count` parts of `part_size`, the last shorter."""

    size: int
    part_size: int
    part_count: int

    def length_of(self, number: int) -> int:
        """The exact length part `number` must have; `InvalidInput` outside 1..part_count."""
        if not 1 <= number <= self.part_count:
            raise InvalidInput(f"Part number must lie between 1 and {self.part_count}")
        if number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)

    def complete_parts(self, stored: Mapping[int, int]) -> list[int]:
        """The part numbers in `stored` (number → length) whose length is right, in order."""
        return [
            number
            for number in range(1, self.part_count + 1)
            if stored.get(number) == self.length_of(number)
        ]

    def missing_parts(self, stored: Mapping[int, int]) -> list[int]:
        """The part numbers absent from `stored` or stored with a wrong length, in order."""
        done = set(self.complete_parts(stored))
        return [number for number in range(1, self.part_count + 1) if number not in done]


def plan_parts(size: int, max_size: int | None = None) -> PartPlan:
    """Cut `size` bytes into at most `MAX_PARTS` parts of at least `MIN_PART_SIZE`.

    The part size is a whole number of MiB, so the parts stay aligned for readers.
    An empty file is one empty part. `TooLarge` above `MAX_UPLOAD_SIZE` or `max_size`.
    """
    if size < 0:
        raise InvalidInput("Size must not be negative")
    limit = MAX_UPLOAD_SIZE if max_size is None else min(max_size, MAX_UPLOAD_SIZE)
    if size > limit:
        raise TooLarge(f"Files above {limit} bytes cannot be uploaded, got {size}")
    smallest = -(-size // MAX_PARTS)
    part_size = max(MIN_PART_SIZE, -(-smallest // PART_SIZE_STEP) * PART_SIZE_STEP)
    part_count = max(1, -(-size // part_size))
    return PartPlan(size=size, part_size=part_size, part_count=part_count)


@dataclass(frozen=True)
class UploadSession:
    """An upload in progress (or completed, until it expires).

    `storage_ref` is what the storage needs to find the parts again (the S3
    multipart upload id); `completed` is the file made by `complete`, kept so that
    a repeated `complete` answers the same.
    """

    upload_id: str
    user_id: UserId
    path: UserPath
    plan: PartPlan
    created_at: datetime
    expires_at: datetime
    storage_ref: str = ""
    completed: FileInfo | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class UploadProgress:
    """A session with the parts already stored at their right length."""

    session: UploadSession
    parts_done: list[int]


def number_ranges(numbers: Iterable[int]) -> str:
    """`1-3, 7, 9-10` for 1, 2, 3, 7, 9, 10: part lists that stay short in messages."""
    ranges: list[list[int]] = []
    for number in sorted(numbers):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)
