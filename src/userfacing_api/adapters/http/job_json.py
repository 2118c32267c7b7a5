"""Jobs as encoded JSON, each encoded once for as long as the same job object is read.

The job store hands out one (immutable) `Job` object for as long as its row does
not change, so a listing that is read again and again — the web page polls it —
finds every job it shows already encoded, and a job's page its entity tag too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import orjson

from userfacing_api.adapters.http.conditional import entity_tag
from userfacing_api.adapters.http.schemas.jobs import encoded_job_document
from userfacing_api.adapters.recent_sightings import RecentSightings
from userfacing_api.domain.jobs import Job

ENCODED_KEPT = 1024
"""How many encoded jobs are kept (ten pages of a listing, ~1 MiB); the oldest go first.
A job's answer is kept from its second read on (`RecentSightings`)."""


class EncodedJob:
    """A job's document as JSON bytes, and the entity tag of those bytes."""

    __slots__ = ("_etag", "body", "fragment")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.fragment = orjson.Fragment(body)
        """The bytes, to be placed as they are in a larger JSON answer (a listing)."""
        self._etag: str | None = None

    @property
    def etag(self) -> str:
        """Made when first asked for: a listing never needs the tag of each job in it."""
        if self._etag is None:
            self._etag = entity_tag(self.body)
        return self._etag


class _Encoded:
    def __init__(self, size: int) -> None:
        self._size = size
        # Keyed by the object's id; the object is kept too, so that its id stays its own.
        self._entries: OrderedDict[int, tuple[Job, EncodedJob]] = OrderedDict()
        self._read_lately = RecentSightings(size)

    def of(self, job: Job) -> EncodedJob:
        entry = self._entries.get(id(job))
        if entry is not None and entry[0] is job:
            return entry[1]
        # Copied: orjson's own result keeps its whole (8 KiB) buffer, ten times the text.
        encoded = EncodedJob(bytes(memoryview(encoded_job_document(job))))
        if job.id not in self._read_lately:
            self._read_lately.note(job.id)  # kept from its next read on
            return encoded
        self._entries[id(job)] = (job, encoded)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return encoded


_ENCODED = _Encoded(ENCODED_KEPT)


def encoded_job(job: Job) -> EncodedJob:
    """`job_document(job)` encoded, with its entity tag."""
    return _ENCODED.of(job)


def encoded_listing(jobs: Sequence[Job]) -> tuple[bytes, str]:
    """A JSON list of the jobs' documents, and its entity tag.

    The tag is made of the jobs' own tags, in their order: it changes whenever one of
    the documents, or their order, does, just as a tag of the whole text would, and
    hashing a hundred short tags costs a tenth of hashing a hundred documents.
    """
    encoded = [_ENCODED.of(job) for job in jobs]
    body = orjson.dumps([each.fragment for each in encoded])
    return body, entity_tag("".join(each.etag for each in encoded).encode())
