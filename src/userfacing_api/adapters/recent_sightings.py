"""Which subjects were seen lately: what decides whether a job read is worth keeping.

Jobs are kept once read, so that reading them again costs a lookup: the web page
polls the same listing, running jobs report again and again. Reads spread over
far more jobs than are kept (a script walking through thousands of jobs) would
each put one in and push out an older one, long gone from the processor's caches:
dropping it costs more than keeping ever saves. So a job is kept only when read
again while its first read is still noted here, among as many as are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RecentSightings(OrderedDict[Hashable, None]):
    """The last `size` subjects noted; `subject in sightings` tells whether it is one.

    A mapping, so that asking costs a dictionary lookup and no call of a method.
    """

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        super().__init__()
        self._size = size

    def note(self, subject: Hashable) -> None:
        """Note a subject not seen lately (one noted already keeps its place)."""
        self[subject] = None
        if len(self) > self._size:
            self.popitem(last=False)
