"""In-memory stand-ins for the ports, with state a test can inspect."""

from __future__ import annotations

import asyncio
import builtins
import json
import uuid
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from jose import jwt

from tests.fixed_clock import FixedClock as FixedClock
from userfacing_api.adapters.storage.rules import check_move, check_read, check_replace, check_write
from userfacing_api.domain.applications import Catalogue
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import (
    AlreadyExists,
    BadRequest,
    NotFound,
    Unauthenticated,
)
from userfacing_api.domain.events import JobEvent, NewJobEvent
from userfacing_api.domain.files import FileInfo, FileRequest, FileType
from userfacing_api.domain.identity import IssuedToken, Principal, UserId
from userfacing_api.domain.jobs import Job, JobFilter, JobStatus
from userfacing_api.domain.paths import UserPath
from userfacing_api.domain.uploads import UploadSession
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.database import DatabaseUnavailable
from userfacing_api.ports.events import JobEventLog
from userfacing_api.ports.jobs import (
    JobRepository,
    JobStore,
    JobTransaction,
    NewDelivery,
    NewJob,
    Outbox,
    OutboxSummary,
    PendingDelivery,
)
from userfacing_api.ports.local_identity import SigningKeyStore, StoredUser, UserStore
from userfacing_api.ports.notifier import JobEndedNotice
from userfacing_api.ports.storage import FileStorage, StorageUnavailable
from userfacing_api.ports.uploads import UploadStorage

_Value = TypeVar("_Value")


@dataclass
class StoredFile:
    content: bytes
    modified: datetime
    version: int


class InMemoryFileStorage(FileStorage):
    """Users' trees in two dicts keyed by `(user_id, path)`, with the local disk's semantics.

    `files` holds the files and `folders` every folder (parents included; the
    root `""` is implicit). Setting `available` to False makes every call raise
    `StorageUnavailable`.
    """

    EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

    def __init__(self, chunk_size: int = 64 * 1024, clock: Clock | None = None) -> None:
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.folders: dict[tuple[str, str], datetime] = {}
        self.available = True
        self._chunk_size = chunk_size
        self._clock = clock
        self._versions = 0

    def content(self, user_id: str, path: str) -> bytes:
        """The bytes stored at `path`; KeyError when there is no such file."""
        return self.files[(user_id, path)].content

    def paths(self, user_id: str) -> set[str]:
        """Every file and folder path of the user, for assertions on the whole tree."""
        keys = [*self.files, *self.folders]
        return {path for owner, path in keys if owner == user_id}

    async def ping(self) -> None:
        self._check_available()

    def uri(self, user_id: UserId, path: UserPath) -> str:
        self._check_available()
        return f"memory://{user_id}/{path}"

    async def presigned_download(
        self, user_id: UserId, path: UserPath, expires_in: int
    ) -> FileRequest | None:
        self._check_available()
        return None

    async def presigned_upload(
        self, user_id: UserId, folder: UserPath, expires_in: int
    ) -> FileRequest | None:
        self._check_available()
        return None

    async def stat(self, user_id: UserId, path: UserPath) -> FileInfo | None:
        self._check_available()
        stored = self.files.get((user_id, path))
        if stored is not None:
            return self._file_info(path, stored)
        if path == "":
            return FileInfo(path="", type=FileType.DIRECTORY)
        modified = self.folders.get((user_id, path))
        if modified is None:
            return None
        return FileInfo(path=path, type=FileType.DIRECTORY, modified=modified)

    async def list(
        self, user_id: UserId, folder: UserPath, *, recursive: bool
    ) -> builtins.list[FileInfo]:
        info = await self.stat(user_id, folder)
        if info is None or not info.is_dir:
            raise NotFound(f"Folder {folder!r} does not exist")
        prefix = f"{folder}/" if folder else ""
        entries: list[FileInfo] = []
        for path in sorted(self.paths(user_id)):
            rest = path.removeprefix(prefix)
            if not path.startswith(prefix) or (not recursive and "/" in rest):
                continue
            entry = await self.stat(user_id, UserPath(path))
            assert entry is not None
            entries.append(entry)
        return entries

    async def write(
        self, user_id: UserId, path: UserPath, chunks: AsyncIterable[bytes]
    ) -> FileInfo:
        self._check_available()
        check_write(path)
        if (user_id, path) in self.folders:
            raise AlreadyExists(f"A folder already exists at {path!r}")
        self._make_folders(user_id, path.parent)
        received = [chunk async for chunk in chunks]
        self._check_available()
        self._versions += 1
        stored = StoredFile(b"".join(received), self._now(), self._versions)
        self.files[(user_id, path)] = stored
        return self._file_info(path, stored)

    async def read(
        self, user_id: UserId, path: UserPath, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        self._check_available()
        check_read(path, start, end)
        stored = self.files.get((user_id, path))
        if stored is None:
            raise NotFound(f"File {path!r} does not exist")
        content = stored.content[start:end]
        for offset in range(0, len(content), self._chunk_size):
            yield content[offset : offset + self._chunk_size]

    async def make_folder(self, user_id: UserId, path: UserPath) -> None:
        self._check_available()
        self._make_folders(user_id, path)

    async def move(self, user_id: UserId, source: UserPath, target: UserPath) -> None:
        self._check_available()
        check_move(source, target)
        moved = await self.stat(user_id, source)
        if moved is None:
            raise NotFound(f"{source!r} does not exist")
        existing = await self.stat(user_id, target)
        check_replace(target, moved.is_dir, None if existing is None else existing.type)
        self.files.pop((user_id, target), None)
        self._make_folders(user_id, target.parent)
        _move_keys(self.files, user_id, source, target)
        _move_keys(self.folders, user_id, source, target)

    async def delete(self, user_id: UserId, path: UserPath) -> None:
        self._check_available()
        for key in [*self.files, *self.folders]:
            if key[0] == user_id and _is_at_or_below(key[1], path):
                self.files.pop(key, None)
                self.folders.pop(key, None)

    def _make_folders(self, user_id: UserId, path: UserPath) -> None:
        segments = path.split("/") if path else []
        for depth in range(1, len(segments) + 1):
            if (user_id, "/".join(segments[:depth])) in self.files:
                raise AlreadyExists(f"A file is in the way of {path!r}")
        for depth in range(1, len(segments) + 1):
            self.folders.setdefault((user_id, "/".join(segments[:depth])), self._now())

    def _file_info(self, path: str, stored: StoredFile) -> FileInfo:
        size = len(stored.content)
        return FileInfo(
            path=path,
            type=FileType.FILE,
            size=size,
            modified=stored.modified,
            etag=f'"{size:x}-{stored.version:x}"',
        )

    def _now(self) -> datetime:
        if self._clock is not None:
            return self._clock.now()
        return self.EPOCH + timedelta(seconds=self._versions)

    def _check_available(self) -> None:
        if not self.available:
            raise StorageUnavailable("The file storage is switched off")


def _is_at_or_below(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(f"{folder}/")


def _move_keys(
    store: dict[tuple[str, str], _Value], user_id: str, source: str, target: str
) -> None:
    for owner, path in builtins.list(store):
        if owner == user_id and _is_at_or_below(path, source):
            store[(owner, target + path.removeprefix(source))] = store.pop((owner, path))


class InMemoryUploadStorage(UploadStorage):
    """Upload sessions in dicts, parts sent through the service as on the local disk.

    `records` holds each session by upload id and `parts` its stored parts;
    completed files go to the given `InMemoryFileStorage`.
    """

    def __init__(self, files: InMemoryFileStorage) -> None:
        self.records: dict[str, UploadSession] = {}
        self.parts: dict[str, dict[int, bytes]] = {}
        self._files = files

    async def begin(self, user_id: UserId, path: UserPath) -> str:
        return ""

    async def save(self, session: UploadSession) -> None:
        self.records[session.upload_id] = session
        self.parts.setdefault(session.upload_id, {})

    async def load(self, user_id: UserId, upload_id: str) -> UploadSession | None:
        session = self.records.get(upload_id)
        return session if session is not None and session.user_id == user_id else None

    async def sessions(self, user_id: UserId | None = None) -> builtins.list[UploadSession]:
        return [s for s in self.records.values() if user_id in (None, s.user_id)]

    async def part_request(
        self, session: UploadSession, number: int, expires_in: int
    ) -> FileRequest | None:
        return None

    async def write_part(
        self, session: UploadSession, number: int, chunks: AsyncIterable[bytes]
    ) -> None:
        received = b"".join([chunk async for chunk in chunks])
        self.parts[session.upload_id][number] = received

    async def stored_parts(self, session: UploadSession) -> dict[int, int]:
        stored = self.parts.get(session.upload_id, {})
        return {number: len(content) for number, content in stored.items()}

    async def assemble(self, session: UploadSession) -> FileInfo:
        stored = self.parts.pop(session.upload_id)
        ordered = [stored[number] for number in sorted(stored)]

        async def chunks() -> AsyncIterator[bytes]:
            for content in ordered:
                yield content

        return await self._files.write(session.user_id, session.path, chunks())

    async def discard(self, session: UploadSession) -> None:
        self.records.pop(session.upload_id, None)
        self.parts.pop(session.upload_id, None)


@dataclass(frozen=True)
class StoredDelivery:
    job_id: int
    payload: Mapping[str, Any]
    job_created: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str | None = None
    claim: str | None = None
    locked_until: datetime | None = None


class InMemoryJobStore(JobStore):
    """Jobs and deliveries in dicts; a transaction restores them when its block raises.

    `commits` counts committed transactions; setting `available` to False makes
    every call raise `DatabaseUnavailable`.
    """

    def __init__(self) -> None:
        self.jobs: dict[int, Job] = {}
        self.deliveries: dict[int, StoredDelivery] = {}
        self.events: list[tuple[str, JobEvent]] = []
        """Each recorded event with its job's owner, oldest first."""
        self.next_seq = 1
        self.available = True
        self.commits = 0
        self.next_id = 1
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[JobTransaction]:
        self._check_available()
        async with self._lock:
            jobs, deliveries = dict(self.jobs), dict(self.deliveries)
            events = list(self.events)
            try:
                yield JobTransaction(
                    jobs=_InMemoryJobs(self),
                    outbox=_InMemoryOutbox(self),
                    events=_InMemoryEvents(self),
                )
            except BaseException:
                self.jobs.clear()
                self.jobs.update(jobs)
                self.deliveries.clear()
                self.deliveries.update(deliveries)
                self.events[:] = events
                raise
            self.commits += 1

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[JobTransaction]:
        self._check_available()
        yield JobTransaction(
            jobs=_InMemoryJobs(self), outbox=_InMemoryOutbox(self), events=_InMemoryEvents(self)
        )

    async def ping(self) -> None:
        self._check_available()

    def _check_available(self) -> None:
        if not self.available:
            raise DatabaseUnavailable("The job store is switched off")


class _InMemoryJobs(JobRepository):
    def __init__(self, store: InMemoryJobStore) -> None:
        self._store = store

    async def add(self, new: NewJob) -> Job:
        names = {(job.user_id, job.spec.job_name) for job in self._store.jobs.values()}
        if (new.user_id, new.spec.job_name) in names:
            raise AlreadyExists(f"A job named {new.spec.job_name!r} already exists")
        job = Job(
            id=self._store.next_id,
            user_id=new.user_id,
            user_email=new.user_email,
            spec=new.spec,
            status=JobStatus.QUEUED,
            date_created=new.date_created,
        )
        self._store.next_id += 1
        self._store.jobs[job.id] = job
        return job

    async def get(self, job_id: int) -> Job | None:
        return self._store.jobs.get(job_id)

    async def get_with_delivery(self, job_id: int) -> tuple[Job, bool] | None:
        job = self._store.jobs.get(job_id)
        return None if job is None else (job, job_id in self._store.deliveries)

    async def lock(self, job_id: int) -> Job | None:
        return self._store.jobs.get(job_id)

    async def list_for_user(
        self, user_id: UserId, offset: int, limit: int, only: JobFilter | None = None
    ) -> list[Job]:
        shown = only or JobFilter()
        owned = [
            job
            for job in self._store.jobs.values()
            if job.user_id == user_id
            and (not shown.statuses or job.status in shown.statuses)
            and (shown.application in (None, job.spec.application.application))
            and job.spec.job_name.startswith(shown.name_prefix or "")
        ]
        owned.sort(key=lambda job: (job.date_created, job.id), reverse=True)
        return owned[offset : offset + limit]

    async def save(self, job: Job) -> None:
        stored = self._store.jobs[job.id]
        self._store.jobs[job.id] = replace(
            stored,
            status=job.status,
            date_started=job.date_started,
            date_finished=job.date_finished,
            runtime_details=job.runtime_details,
        )

    async def count_active(self, user_id: UserId) -> int:
        return sum(
            1
            for job in self._store.jobs.values()
            if job.user_id == user_id and not job.status.has_ended
        )

    async def delete(self, job_id: int) -> bool:
        self._store.deliveries.pop(job_id, None)
        self._store.events[:] = [
            (owner, event) for owner, event in self._store.events if event.job_id != job_id
        ]
        return self._store.jobs.pop(job_id, None) is not None


class _InMemoryEvents(JobEventLog):
    def __init__(self, store: InMemoryJobStore) -> None:
        self._store = store

    async def add(self, event: NewJobEvent) -> int:
        seq = self._store.next_seq
        self._store.next_seq += 1
        recorded = JobEvent(seq, event.job_id, event.time, event.status, event.runtime_details)
        self._store.events.append((event.user_id, recorded))
        return seq

    async def of_job(self, job_id: int, after_seq: int = 0) -> list[JobEvent]:
        return [
            event
            for _, event in self._store.events
            if event.job_id == job_id and event.seq > after_seq
        ]

    async def of_user(self, user_id: str, after_seq: int, limit: int) -> list[JobEvent]:
        return [
            event
            for owner, event in self._store.events
            if owner == user_id and event.seq > after_seq
        ][:limit]


class _InMemoryOutbox(Outbox):
    def __init__(self, store: InMemoryJobStore) -> None:
        self._store = store

    async def add(self, delivery: NewDelivery, lease: Lease | None) -> None:
        if delivery.job_id not in self._store.jobs or delivery.job_id in self._store.deliveries:
            raise ValueError(f"cannot queue a delivery for job {delivery.job_id}")
        self._store.deliveries[delivery.job_id] = StoredDelivery(
            job_id=delivery.job_id,
            payload=json.loads(json.dumps(delivery.payload)),
            job_created=delivery.job_created,
            next_attempt_at=delivery.next_attempt_at,
            claim=None if lease is None else lease.token,
            locked_until=None if lease is None else lease.until,
        )

    async def claim(self, now: datetime, lease: Lease, limit: int) -> list[PendingDelivery]:
        due = sorted(
            (
                stored
                for stored in self._store.deliveries.values()
                if stored.next_attempt_at <= now
                and (stored.locked_until is None or stored.locked_until <= now)
            ),
            key=lambda stored: (stored.next_attempt_at, stored.job_id),
        )[:limit]
        claimed = []
        for stored in due:
            self._store.deliveries[stored.job_id] = replace(
                stored, claim=lease.token, locked_until=lease.until
            )
            claimed.append(
                PendingDelivery(
                    job_id=stored.job_id,
                    payload=stored.payload,
                    job_created=stored.job_created,
                    attempts=stored.attempts,
                    last_error=stored.last_error,
                    lease=lease,
                )
            )
        return sorted(claimed, key=lambda delivery: delivery.job_id)

    async def end(self, job_id: int, token: str | None) -> bool:
        stored = self._store.deliveries.get(job_id)
        if stored is None or (token is not None and stored.claim != token):
            return False
        del self._store.deliveries[job_id]
        return True

    async def reschedule(
        self, job_id: int, token: str, next_attempt_at: datetime, error: str
    ) -> bool:
        stored = self._store.deliveries.get(job_id)
        if stored is None or stored.claim != token:
            return False
        self._store.deliveries[job_id] = replace(
            stored,
            attempts=stored.attempts + 1,
            last_error=error,
            next_attempt_at=next_attempt_at,
            claim=None,
            locked_until=None,
        )
        return True

    async def next_due(self) -> datetime | None:
        return min(
            (
                max(stored.next_attempt_at, stored.locked_until or stored.next_attempt_at)
                for stored in self._store.deliveries.values()
            ),
            default=None,
        )

    async def summary(self) -> OutboxSummary:
        deliveries = self._store.deliveries.values()
        return OutboxSummary(
            pending=len(deliveries),
            oldest_created=min((stored.job_created for stored in deliveries), default=None),
        )


class InMemoryUserStore(UserStore):
    """Local users by username."""

    def __init__(self) -> None:
        self.users: dict[str, StoredUser] = {}

    async def add(self, user: StoredUser) -> None:
        if user.username in self.users:
            raise AlreadyExists(f"User {user.username!r} already exists")
        self.users[user.username] = user

    async def find(self, username: str) -> StoredUser | None:
        return self.users.get(username)


class InMemorySigningKeyStore(SigningKeyStore):
    """Private keys (PEM) by key id."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    async def find(self, kid: str) -> str | None:
        return self.keys.get(kid)

    async def add_if_absent(self, kid: str, private_pem: str, created_at: datetime) -> None:
        self.keys.setdefault(kid, private_pem)


class StaticCatalogue:
    """A catalogue that changes only when a test assigns `catalogue`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def current(self) -> Catalogue:
        return self.catalogue


class RecordingWorkerQueue:
    """Accepts every payload into `sent`, unless `answers` holds an error for the next call.

    Each call takes the next item of `answers` (None: accept) while there is one.
    While `gate` is set to an event, calls wait for that event first.
    """

    def __init__(self, *answers: Exception | None) -> None:
        self.sent: builtins.list[Mapping[str, Any]] = []
        self.calls = 0
        self.answers: deque[Exception | None] = deque(answers)
        self.gate: asyncio.Event | None = None

    async def enqueue(self, payload: Mapping[str, Any]) -> None:
        self.calls += 1
        if self.gate is None:
            await asyncio.sleep(0)
        else:
            await self.gate.wait()
        answer = self.answers.popleft() if self.answers else None
        if answer is not None:
            raise answer
        self.sent.append(payload)


class RecordingNotifier:
    """Keeps every notice in `notices`; with `failure` set, raises it instead."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.notices: builtins.list[JobEndedNotice] = []
        self.failure = failure

    async def job_ended(self, notice: JobEndedNotice) -> None:
        if self.failure is not None:
            raise self.failure
        self.notices.append(notice)


@dataclass(frozen=True)
class FakeUser:
    password: str
    principal: Principal


class InMemoryIdentity:
    """Both identity ports over dicts: no signing keys, no password hashing.

    `users` maps usernames to their password and principal, `tokens` every
    token issued to its principal. Tokens are HS256 JWTs with the claims a
    Cognito id token names the user by, so that tests read the caller's id
    from any token the same way; only tokens in `tokens` verify.
    """

    LIFETIME = 3600

    def __init__(self) -> None:
        self.users: dict[str, FakeUser] = {}
        self.tokens: dict[str, Principal] = {}

    async def register(self, username: str, password: str, groups: Sequence[str]) -> Principal:
        if username in self.users:
            raise AlreadyExists("User already exists")
        principal = Principal(
            user_id=str(uuid.uuid4()), email=username, groups=tuple(dict.fromkeys(groups))
        )
        self.users[username] = FakeUser(password, principal)
        return principal

    async def issue_token(self, username: str, password: str) -> IssuedToken:
        user = self.users.get(username)
        if user is None:
            raise NotFound("User does not exist")
        if password != user.password:
            raise BadRequest("Incorrect username or password")
        return IssuedToken(id_token=self.token_for(user.principal), expires_in=self.LIFETIME)

    def token_for(self, principal: Principal) -> str:
        """A token that verifies as `principal`, for callers that never registered."""
        claims = {
            "sub": principal.user_id,
            "cognito:username": principal.user_id,
            "email": principal.email,
            "jti": uuid.uuid4().hex,
        }
        token = str(jwt.encode(claims, "in-memory identity", algorithm="HS256"))
        self.tokens[token] = principal
        return token

    async def verify(self, token: str) -> Principal:
        principal = self.tokens.get(token)
        if principal is None:
            raise Unauthenticated("Invalid token")
        return principal
