"""The folder of a local upload session: every part written in place, in one data file.

Each part goes straight into the file `data` at the offset the part plan gives
it; an empty marker `done-NNNNN` beside it says that the part is stored whole
and on the disk. Completing renames the data file into the user's tree, so no
byte of a session is written twice.

Open file description locks (Linux `F_OFD_SETLK`: held by one opened file, so
they hold between the threads of a process and between the processes of
`WORKERS`) keep writers and completion apart without waiting:
- a part being written holds a lock on its own byte range, so a second request
  for the same part at the same time is refused instead of mixing its bytes in;
- completion holds a lock on the whole file while it checks the markers and
  renames the file, so a part still being written is never published, and a
  part that arrives meanwhile is refused.

Everything here blocks and runs in worker threads.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from userfacing_api.domain.errors import Conflict, Incomplete, NotFound, StorageFull
from userfacing_api.domain.uploads import UploadSession, number_ranges
from userfacing_api.ports.storage import StorageUnavailable

DATA_NAME = "data"
MARKER_PREFIX = "done-"
# struct flock: l_type, l_whence, l_start, l_len, l_pid, then the padding to 32 bytes.
_FLOCK = "hhqqi4x"
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})
_BUSY = frozenset({errno.EAGAIN, errno.EACCES})


def marker_name(number: int) -> str:
    return f"{MARKER_PREFIX}{number:05d}"


class SessionFolder:
    """The folder `path` of `session`, which holds its record, data file and markers."""

    def __init__(self, path: str, session: UploadSession) -> None:
        self.path = path
        self.data = os.path.join(path, DATA_NAME)
        self._session = session

    def open_part(self, number: int) -> int:
        """A descriptor of the data file, locked for part `number`, whose marker is gone.

        From here on the part counts as missing until `finish_part`: whatever happens
        to the write, a part half written is never reported as stored. `NotFound` when
        the session was discarded, `Conflict` while the part is being written by
        another request or the session is being completed.
        """
        with self.errors():
            descriptor = os.open(self.data, os.O_WRONLY | os.O_CREAT, 0o666)
        try:
            length = self._session.plan.length_of(number)
            if not _lock(descriptor, self.offset_of(number), max(length, 1)):
                raise Conflict(f"Part {number} is being stored by another request")
            with self.errors():
                if os.stat(self.data).st_ino != os.fstat(descriptor).st_ino:
                    raise FileNotFoundError(errno.ENOENT, "the data file was completed")
                with suppress(FileNotFoundError):
                    os.unlink(self._marker(number))
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def write_at(self, descriptor: int, chunk: bytes, offset: int) -> None:
        with self.errors():
            view = memoryview(chunk)
            while view:
                written = os.pwrite(descriptor, view, offset)
                view, offset = view[written:], offset + written

    def finish_part(self, descriptor: int, number: int) -> None:
        """Put the part's bytes on the disk, then its marker (`NotFound` once discarded).

        The marker itself is not flushed to the disk, which would cost one more disk
        flush per part: its bytes are, before it is made, so a marker never outlives
        them. A marker lost in a crash only makes the part count as missing, and the
        client sends it again.
        """
        with self.errors():
            os.fdatasync(descriptor)
            os.close(os.open(self._marker(number), os.O_WRONLY | os.O_CREAT, 0o666))

    def stored(self) -> dict[int, int]:
        """Part number → length of the parts marked stored; none without a data file."""
        try:
            with os.scandir(self.path) as entries:
                names = {entry.name for entry in entries}
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise StorageUnavailable("The upload sessions cannot be listed") from err
        if DATA_NAME not in names:
            return {}
        plan = self._session.plan
        stored: dict[int, int] = {}
        for name in names:
            number = name.removeprefix(MARKER_PREFIX)
            if name.startswith(MARKER_PREFIX) and number.isdigit():
                stored[int(number)] = plan.length_of(int(number))
        return stored

    def lock_for_completion(self) -> int:
        """A descriptor of the data file, locked whole, once every part is marked stored.

        `Incomplete` when a part is missing or still being written.
        """
        plan = self._session.plan
        missing = plan.missing_parts(self.stored())
        if missing:
            raise Incomplete(f"Parts missing or of the wrong size: {number_ranges(missing)}")
        with self.errors():
            descriptor = os.open(self.data, os.O_RDWR)
        try:
            if not _lock(descriptor, 0, 0):
                raise Incomplete("Parts of this upload are still being stored")
            missing = plan.missing_parts(self.stored())
            if missing:  # a part sent again started meanwhile and is not stored yet
                raise Incomplete(f"Parts missing or of the wrong size: {number_ranges(missing)}")
            with self.errors():
                os.ftruncate(descriptor, plan.size)
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def clear_markers(self) -> None:
        """Remove the markers of a completed session (its data file is the user's now)."""
        with self.errors():
            for number in range(1, self._session.plan.part_count + 1):
                with suppress(FileNotFoundError):
                    os.unlink(self._marker(number))

    def offset_of(self, number: int) -> int:
        return (number - 1) * self._session.plan.part_size

    def _marker(self, number: int) -> str:
        return os.path.join(self.path, marker_name(number))

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Translate an operating-system failure into a port error.

        A missing folder or data file means the session was discarded (or completed).
        """
        try:
            yield
        except FileNotFoundError as err:
            raise NotFound(f"Upload {self._session.upload_id!r} does not exist") from err
        except OSError as err:
            if err.errno in _NO_ROOM:
                raise StorageFull(
                    f"The file storage is full: {self._session.path!r} could not be stored"
                ) from err
            raise StorageUnavailable("The file storage failed") from err


def _lock(descriptor: int, start: int, length: int) -> bool:
    """Lock `length` bytes from `start` (0: to the end, however far) for writing.

    False, without waiting, when another opened file holds a lock there.
    """
    request = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    try:
        fcntl.fcntl(descriptor, fcntl.F_OFD_SETLK, request)
    except OSError as err:
        if err.errno in _BUSY:
            return False
        raise StorageUnavailable("The file storage failed") from err
    return True
