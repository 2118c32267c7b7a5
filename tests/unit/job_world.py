"""The job use cases wired to in-memory fakes, for the unit tests of the jobs feature."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml

from tests.fakes import (
    FixedClock,
    InMemoryFileStorage,
    InMemoryJobStore,
    RecordingNotifier,
    RecordingWorkerQueue,
    StaticCatalogue,
)
from userfacing_api.domain.applications import Catalogue, parse_catalogue
from userfacing_api.domain.delivery import RetryPolicy
from userfacing_api.domain.identity import Principal, UserId
from userfacing_api.domain.jobs import ApplicationRef, InputFolders, JobSpec
from userfacing_api.domain.paths import UserPath
from userfacing_api.service_layer.background import BackgroundTasks
from userfacing_api.service_layer.delivery import JobDeliveries
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher
from userfacing_api.service_layer.job_status import JobStatusService
from userfacing_api.service_layer.jobs import JobService
from userfacing_api.service_layer.notifications import JobEndNotifications

ALICE = Principal(user_id="alice", email="alice@example.org", groups=("users",))
BOB = Principal(user_id="bob", email=None, groups=("users",))
DEADLINE = timedelta(hours=1)
RETRY = RetryPolicy(first_delay=1.0, max_delay=60.0)
JITTER = 0.5
API_KEY = "internal-secret"


def load_catalogue(path: Path) -> Catalogue:
    return parse_catalogue(yaml.safe_load(path.read_text()))


def train_spec(
    job_name: str = "run1",
    *,
    config_id: str = "exp1",
    data_ids: tuple[str, ...] = ("beads",),
    artifact_ids: tuple[str, ...] = (),
) -> JobSpec:
    """A `decode v0_10_1 train` job reading `config/exp1` and `data/beads` by default."""
    return JobSpec(
        job_name=job_name,
        application=ApplicationRef("decode", "v0_10_1", "train"),
        inputs=InputFolders(config_id, data_ids, artifact_ids),
    )


async def _bytes(content: bytes) -> AsyncIterable[bytes]:
    yield content


@dataclass
class JobWorld:
    catalogue: Catalogue
    with_worker_side: bool = True
    clock: FixedClock = field(default_factory=FixedClock)
    store: InMemoryJobStore = field(default_factory=InMemoryJobStore)
    storage: InMemoryFileStorage = field(default_factory=InMemoryFileStorage)
    queue: RecordingWorkerQueue = field(default_factory=RecordingWorkerQueue)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)
    wakes: int = 0

    def __post_init__(self) -> None:
        notifications = JobEndNotifications(self.notifier, self.tasks)
        self.deliveries = JobDeliveries(
            self.store,
            self.queue,
            self.clock,
            notifications,
            deadline=DEADLINE,
            retry=RETRY,
            jitter=lambda: JITTER,
        )
        self.jobs = JobService(
            self.store,
            self.storage,
            StaticCatalogue(self.catalogue),
            self.clock,
            self.deliveries if self.with_worker_side else None,
            self._wake,
        )
        self.job_status = JobStatusService(self.store, self.clock, notifications, API_KEY)
        self.dispatcher = DeliveryDispatcher(self.store, self.deliveries, self.clock)

    def _wake(self) -> None:
        self.wakes += 1

    async def put_file(self, user_id: str, path: str, content: bytes = b"x") -> None:
        await self.storage.write(UserId(user_id), UserPath(path), _bytes(content))

    async def put_inputs(self, user_id: str = "alice") -> None:
        """The input folders of `train_spec()`: `config/exp1` and `data/beads`."""
        await self.put_file(user_id, "config/exp1/param.yaml")
        await self.put_file(user_id, "data/beads/calib.mat")

    async def settle(self) -> None:
        """Let background notices finish (no new ones are accepted afterwards)."""
        await self.tasks.close()
