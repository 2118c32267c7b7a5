"""The hand-built response documents of the hot endpoints equal their schemas' dumps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from userfacing_api.adapters.http.conditional import entity_tag
from userfacing_api.adapters.http.job_json import encoded_job, encoded_listing
from userfacing_api.adapters.http.schemas.files import FileInfoSchema, file_document
from userfacing_api.adapters.http.schemas.jobs import JobSchema, job_document
from userfacing_api.domain.files import FileInfo, FileType
from userfacing_api.domain.jobs import (
    ApplicationRef,
    Environment,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
)

CREATED = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)

PLAIN = Job(
    id=7,
    user_id="alice",
    user_email=None,
    spec=JobSpec(
        job_name="run-1",
        application=ApplicationRef("decode", "v0_10_1", "train"),
        inputs=InputFolders(config_id="cfg"),
    ),
    status=JobStatus.QUEUED,
    date_created=CREATED.replace(microsecond=0),
)
FULL = Job(
    id=2**40,
    user_id="bob",
    user_email="bob@example.org",
    spec=JobSpec(
        job_name="nested/run-2",
        application=ApplicationRef("decode", "v0_10_1", "fit"),
        inputs=InputFolders(config_id="cfg", data_ids=("d1", "d/2"), artifact_ids=("a",)),
        env_vars={"SEED": "1", "MODE": "fast"},
        environment=next(iter(Environment)),
        priority=5,
        hardware=Hardware(cpu_cores=4, memory=None, gpu_model="a100", gpu_archi=None, gpu_mem=40),
    ),
    status=JobStatus.FINISHED,
    date_created=CREATED,
    date_started=CREATED.astimezone(timezone(timedelta(hours=2))),
    date_finished=CREATED + timedelta(hours=1),
    runtime_details="exit code 0 — done ✓",
)


@pytest.mark.parametrize("job", [PLAIN, FULL], ids=["plain", "every-field"])
def test_a_job_document_is_what_the_job_schema_dumps(job: Job) -> None:
    assert job_document(job) == JobSchema().dump(job)


@pytest.mark.parametrize(
    "info",
    [
        FileInfo(path="data/set", type=FileType.DIRECTORY),
        FileInfo(path="data/set/a.tif", type=FileType.FILE, size=1_234_567),
        FileInfo(path="empty.txt", type=FileType.FILE, size=0),
    ],
    ids=["folder", "file", "empty-file"],
)
def test_a_file_document_is_what_the_file_schema_dumps(info: FileInfo) -> None:
    assert file_document(info) == FileInfoSchema().dump(info)


@pytest.mark.parametrize("job", [PLAIN, FULL], ids=["plain", "every-field"])
def test_an_encoded_job_is_its_document(job: Job) -> None:
    assert orjson.loads(encoded_job(job).body) == JobSchema().dump(job)


@pytest.mark.parametrize("job", [PLAIN, FULL], ids=["plain", "every-field"])
def test_an_encoded_job_is_the_very_text_of_its_document(job: Job) -> None:
    text = orjson.dumps(job_document(job))

    assert encoded_job(job).body == text
    assert encoded_job(job).etag == entity_tag(text)


def test_a_job_read_again_as_a_new_object_is_encoded_anew() -> None:
    first = encoded_job(PLAIN).body
    started = replace(PLAIN, status=JobStatus.RUNNING, date_started=CREATED)

    assert orjson.loads(encoded_job(started).body)["status"] == "running"
    assert encoded_job(PLAIN).body == first


def test_a_job_is_encoded_once_from_its_second_encoding_on() -> None:
    job = replace(PLAIN, id=4242)

    first = encoded_job(job)
    kept = encoded_job(job)

    assert kept is not first
    assert kept.body == first.body
    assert encoded_job(job) is kept


def test_an_encoded_listing_is_the_list_of_its_jobs_documents() -> None:
    body, _ = encoded_listing([FULL, PLAIN])

    assert body == orjson.dumps([job_document(FULL), job_document(PLAIN)])
    assert encoded_listing([])[0] == b"[]"


def test_a_listing_keeps_its_tag_until_a_job_in_it_or_their_order_changes() -> None:
    _, tag = encoded_listing([FULL, PLAIN])
    started = replace(PLAIN, status=JobStatus.RUNNING, date_started=CREATED)

    assert encoded_listing([replace(FULL), replace(PLAIN)])[1] == tag
    others = [[PLAIN, FULL], [FULL, started], [FULL], [FULL, PLAIN, PLAIN], []]
    tags = {tag, *(encoded_listing(jobs)[1] for jobs in others)}
    assert len(tags) == len(others) + 1
