"""Jobs as encoded JSON, each encoded once for as long as the same job object is read.

The job store hands out one (immutable) `Job` object for as long as its row does
not change, so a listing that is read again and again — the web page polls it —
finds every job it shows already encoded.
"""

from __future__ import annotations

from collections import OrderedDict

import orjson

from userfacing_api.adapters.http.schemas.jobs import job_document
from userfacing_api.domain.jobs import Job

ENCODED_KEPT = 1024
"""How many encoded jobs are kept (ten pages of a listing, ~1 MiB); the oldest go first."""


class _Encoded:
    def __init__(self, size: int) -> None:
        self._size = size
        # Keyed by the object's id; the object is kept too, so that its id stays its own.
        self._entries: OrderedDict[int, tuple[Job, orjson.Fragment]] = OrderedDict()

    def of(self, job: Job) -> orjson.Fragment:
        entry = self._entries.get(id(job))
        if entry is not None and entry[0] is job:
            return entry[1]
        # Copied: orjson's own result keeps its whole (8 KiB) buffer, ten times the text.
        fragment = orjson.Fragment(bytes(memoryview(orjson.dumps(job_document(job)))))
        self._entries[id(job)] = (job, fragment)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return fragment


_ENCODED = _Encoded(ENCODED_KEPT)


def job_json(job: Job) -> orjson.Fragment:
    """`job_document(job)` encoded, to be placed as it is in a JSON answer."""
    return _ENCODED.of(job)
