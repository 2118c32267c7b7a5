"""Jobs: what a user asks to run, its life cycle, and the rules on both.

A job reads its inputs from folders or single files of its owner's tree
(`config/<config_id>`, `data/<id>`, `artifact/<id>`) and writes its results to `output/<job_name>`,
`log/<job_name>` and `artifact/<job_name>`. Ids and names therefore are paths,
and they are checked here so that a job can never read, and deleting it can
never remove, anything outside its owner's tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from userfacing_api.domain.errors import Conflict, Field, InvalidInput, LimitReached
from userfacing_api.domain.paths import TopFolder, UserPath, normalise_path

MIN_PRIORITY = 0
MAX_PRIORITY = 5
OUTPUT_FOLDERS: tuple[TopFolder, ...] = (TopFolder.OUTPUT, TopFolder.LOG, TopFolder.ARTIFACT)
_FILES_DOWN: Field = ("attributes", "files_down")


class JobStatus(StrEnum):
    QUEUED = "queued"
    PULLED = "pulled"
    PREPROCESSING = "preprocessing"
    RUNNING = "running"
    POSTPROCESSING = "postprocessing"
    FINISHED = "finished"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def has_ended(self) -> bool:
        """Terminal: the job runs no more (its owner may still delete it)."""
        return self in (JobStatus.FINISHED, JobStatus.ERROR, JobStatus.CANCELLED)


class Environment(StrEnum):
    """Where a job may run; a job without one runs on any worker."""

    CLOUD = "cloud"
    LOCAL = "local"


@dataclass(frozen=True)
class ApplicationRef:
    """An entrypoint of the catalogue: `application` / `version` / `entrypoint`."""

    application: str
    version: str
    entrypoint: str


@dataclass(frozen=True)
class InputFolders:
    """The folders (or single files) a job reads, relative to `config/`, `data/`, `artifact/`."""

    config_id: str
    data_ids: tuple[str, ...] = ()
    artifact_ids: tuple[str, ...] = ()

    def folders(self) -> list[tuple[str, UserPath]]:
        """Each input path with the `files_down` key of the catalogue that places it."""
        return [
            ("config_id", TopFolder.CONFIG.path / self.config_id),
            *(("data_ids", TopFolder.DATA.path / data_id) for data_id in self.data_ids),
            *(
                ("artifact_ids", TopFolder.ARTIFACT.path / artifact_id)
                for artifact_id in self.artifact_ids
            ),
        ]


@dataclass(frozen=True)
class Hardware:
    """What a job asks of its worker; None means no requirement."""

    cpu_cores: int | None = None
    memory: int | None = None
    gpu_model: str | None = None
    gpu_archi: str | None = None
    gpu_mem: int | None = None


@dataclass(frozen=True)
class JobSpec:
    """What a user asks to run (the contract's JobCreate)."""

    job_name: str
    application: ApplicationRef
    inputs: InputFolders
    env_vars: Mapping[str, str] = field(default_factory=dict)
    environment: Environment | None = None
    priority: int | None = None
    hardware: Hardware | None = None


@dataclass(frozen=True)
class JobFilter:
    """Which of a user's jobs a listing shows; an empty field does not filter."""

    statuses: frozenset[JobStatus] = frozenset()
    application: str | None = None
    name_prefix: str | None = None


@dataclass(frozen=True)
class Job:
    id: int
    user_id: str
    user_email: str | None
    spec: JobSpec
    status: JobStatus
    date_created: datetime
    date_started: datetime | None = None
    date_finished: datetime | None = None
    runtime_details: str | None = None

    @property
    def paths_out(self) -> dict[str, UserPath]:
        return paths_out(self.spec.job_name)


def paths_out(job_name: str) -> dict[str, UserPath]:
    """The folders a job's results go to, keyed by kind (`output`, `log`, `artifact`)."""
    name = UserPath(job_name)
    return {kind: folder / name for kind, folder in _OUTPUT_FOLDER_PATHS}


_OUTPUT_FOLDER_PATHS = tuple((folder.value, folder.path) for folder in OUTPUT_FOLDERS)


def checked_spec(spec: JobSpec) -> JobSpec:
    """The spec with its paths normalised and its priority set, or `InvalidInput`.

    Input ids may be written with a trailing `/`; job names must already be in
    normal form, because the name is shown back to the user as given.
    """
    inputs = InputFolders(
        config_id=_relative_path(spec.inputs.config_id, (*_FILES_DOWN, "config_id")),
        data_ids=tuple(
            _relative_path(value, (*_FILES_DOWN, "data_ids", index))
            for index, value in enumerate(spec.inputs.data_ids)
        ),
        artifact_ids=tuple(
            _relative_path(value, (*_FILES_DOWN, "artifact_ids", index))
            for index, value in enumerate(spec.inputs.artifact_ids)
        ),
    )
    _no_nul_in_text(spec)
    return replace(
        spec,
        job_name=_job_name(spec.job_name),
        inputs=inputs,
        priority=_priority(spec.priority),
    )


def _no_nul_in_text(spec: JobSpec) -> None:
    """NUL cannot be stored by every database, so no job text may hold it."""
    texts: list[tuple[Field, str]] = [
        (("attributes", "env_vars", key), f"{key}{value}") for key, value in spec.env_vars.items()
    ]
    if spec.hardware is not None:
        texts += [
            (("hardware", "gpu_model"), spec.hardware.gpu_model or ""),
            (("hardware", "gpu_archi"), spec.hardware.gpu_archi or ""),
        ]
    for field_path, text in texts:
        if "\x00" in text:
            raise InvalidInput("Job fields must not contain NUL characters", field_path)


def with_status(job: Job, status: JobStatus, runtime_details: str | None, now: datetime) -> Job:
    """The job after the worker side reported `status`; any transition is accepted.

    The first `pulled` sets `date_started` and the first `finished` or `error`
    sets `date_finished`; neither is overwritten later.
    """
    started = job.date_started
    if started is None and status is JobStatus.PULLED:
        started = now
    finished = job.date_finished
    if finished is None and status.has_ended:
        finished = now
    return replace(
        job,
        status=status,
        date_started=started,
        date_finished=finished,
        runtime_details=appended_details(job.runtime_details, runtime_details),
    )


def appended_details(existing: str | None, new: str | None) -> str | None:
    """`new` appended to `existing` after a newline; an empty `new` changes nothing.

    NUL characters are dropped: no database stores them everywhere, and a status
    report must never fail because of what a container printed.
    """
    new = new.replace("\x00", "") if new else new
    if not new:
        return existing
    if existing is None:
        return new
    return f"{existing}\n{new}"


def has_entered_end(before: JobStatus, after: JobStatus) -> bool:
    """True when a change of status moved the job into `finished` or `error`.

    `cancelled` is left out: a job is cancelled by its owner, who needs no notice.
    """
    return after in (JobStatus.FINISHED, JobStatus.ERROR) and before is not after


def cancelled(job: Job, now: datetime) -> Job:
    """The job cancelled by its owner at `now`; `Conflict` once it has ended."""
    if job.status.has_ended:
        raise Conflict(f"Job {job.id} is already {job.status.value}")
    return replace(job, status=JobStatus.CANCELLED, date_finished=job.date_finished or now)


def accepts_reports(job: Job) -> bool:
    """Whether the worker side may still report on the job: not once its owner cancelled it."""
    return job.status is not JobStatus.CANCELLED


def check_active_jobs(active: int, limit: int | None) -> None:
    """`LimitReached` when a user who has `active` unfinished jobs may start no other."""
    if limit is not None and active >= limit:
        raise LimitReached(
            f"You have {active} active jobs and the limit is {limit}: wait for one to end"
            " or cancel one"
        )


def _job_name(value: str) -> str:
    normalised = _relative_path(value, ("job_name",))
    if normalised != value:
        raise InvalidInput(
            f"job_name must be a relative path without empty or '.' segments"
            f" or a trailing '/', got {value!r}",
            ("job_name",),
        )
    return normalised


def _relative_path(value: str, field_path: Field) -> str:
    what = next(name for name in reversed(field_path) if isinstance(name, str))
    if "\x00" in value:
        raise InvalidInput(f"{what} must not contain NUL characters", field_path)
    if value.startswith("/"):
        raise InvalidInput(f"{what} must be a relative path, got {value!r}", field_path)
    try:
        normalised = normalise_path(value)
    except InvalidInput as err:
        raise InvalidInput(f"{what}: {err.detail}", field_path) from None
    if not normalised:
        raise InvalidInput(f"{what} must name a file or folder, got {value!r}", field_path)
    return normalised


def _priority(value: int | None) -> int:
    if value is None:
        return MIN_PRIORITY
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise InvalidInput(
            f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}, got {value}",
            ("priority",),
        )
    return value
