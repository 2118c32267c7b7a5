"""The job use cases built by the composition root over in-memory fakes, for unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml

from tests.fakes import (
    FixedClock,
    InMemoryFileStorage,
    InMemoryIdentity,
    InMemoryJobStore,
    InMemoryUploadStorage,
    RecordingNotifier,
    RecordingWorkerQueue,
    StaticCatalogue,
)
from userfacing_api.bootstrap import Adapters, build
from userfacing_api.domain.applications import Catalogue, parse_catalogue
from userfacing_api.domain.identity import Principal, UserId
from userfacing_api.domain.jobs import ApplicationRef, InputFolders, JobSpec
from userfacing_api.domain.paths import UserPath
from userfacing_api.runtime.dispatcher_runner import DispatcherRunner
from userfacing_api.service_layer.delivery import JobDeliveries
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher
from userfacing_api.settings import DeliverySettings, JobSettings

ALICE = Principal(user_id="alice", email="alice@example.org", groups=("users",))
BOB = Principal(user_id="bob", email=None, groups=("users",))
DEADLINE = timedelta(hours=1)
JITTER = 0.5
POLL_INTERVAL = 60.0
"""Long, so that the dispatcher's runner runs a round only when it is woken (or due)."""
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
    """The job use cases as the composition root builds them, over in-memory fakes."""

    catalogue: Catalogue
    with_worker_side: bool = True
    clock: FixedClock = field(default_factory=FixedClock)
    store: InMemoryJobStore = field(default_factory=InMemoryJobStore)
    storage: InMemoryFileStorage = field(default_factory=InMemoryFileStorage)
    queue: RecordingWorkerQueue = field(default_factory=RecordingWorkerQueue)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    identity: InMemoryIdentity = field(default_factory=InMemoryIdentity)
    active_jobs_limit: int | None = None

    def __post_init__(self) -> None:
        adapters = Adapters(
            clock=self.clock,
            catalogue=StaticCatalogue(self.catalogue),
            job_store=self.store,
            storage=self.storage,
            uploads=InMemoryUploadStorage(self.storage),
            token_verifier=self.identity,
            identity_provider=self.identity,
            notifier=self.notifier,
            worker_queue=self.queue if self.with_worker_side else None,
        )
        self.assembly = build(
            adapters,
            delivery=DeliverySettings(
                internal_api_key_secret=API_KEY,
                deadline=DEADLINE.total_seconds(),
                poll_interval=POLL_INTERVAL,
            ),
            jobs=JobSettings(user_active_jobs_limit=self.active_jobs_limit),
            jitter=lambda: JITTER,
        )
        self.jobs = self.assembly.services.jobs
        self.job_status = self.assembly.services.job_status
        self.job_events = self.assembly.services.job_events

    @property
    def deliveries(self) -> JobDeliveries:
        assert self.assembly.deliveries is not None, "a world without a worker side"
        return self.assembly.deliveries

    @property
    def dispatcher(self) -> DeliveryDispatcher:
        assert self.assembly.dispatcher is not None, "a world without a worker side"
        return self.assembly.dispatcher

    @property
    def runner(self) -> DispatcherRunner:
        assert self.assembly.runner is not None, "a world without a worker side"
        return self.assembly.runner

    async def put_file(self, user_id: str, path: str, content: bytes = b"x") -> None:
        await self.storage.write(UserId(user_id), UserPath(path), _bytes(content))

    async def put_inputs(self, user_id: str = "alice") -> None:
        """The input folders of `train_spec()`: `config/exp1` and `data/beads`."""
        await self.put_file(user_id, "config/exp1/param.yaml")
        await self.put_file(user_id, "data/beads/calib.mat")

    async def settle(self) -> None:
        """Let background notices finish (no new ones are accepted afterwards)."""
        await self.assembly.tasks.close()
