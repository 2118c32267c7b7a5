"""Rules of jobs: names and input ids as confined paths, priority, status changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.jobs import (
    ApplicationRef,
    Hardware,
    InputFolders,
    Job,
    JobSpec,
    JobStatus,
    appended_details,
    checked_spec,
    has_entered_end,
    paths_out,
    with_status,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)


def spec(**changes: object) -> JobSpec:
    base = JobSpec(
        job_name="run1",
        application=ApplicationRef("decode", "v0_10_1", "train"),
        inputs=InputFolders(config_id="exp1", data_ids=("beads",), artifact_ids=()),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def queued_job() -> Job:
    return Job(
        id=7,
        user_id="alice",
        user_email="alice@example.org",
        spec=checked_spec(spec()),
        status=JobStatus.QUEUED,
        date_created=T0,
    )


def test_a_missing_priority_becomes_zero() -> None:
    assert checked_spec(spec(priority=None)).priority == 0


@pytest.mark.parametrize("priority", [0, 3, 5])
def test_priorities_from_zero_to_five_are_kept(priority: int) -> None:
    assert checked_spec(spec(priority=priority)).priority == priority


@pytest.mark.parametrize("priority", [-1, 6, 100])
def test_priorities_outside_zero_to_five_are_refused(priority: int) -> None:
    with pytest.raises(InvalidInput, match="priority"):
        checked_spec(spec(priority=priority))


@pytest.mark.parametrize("name", ["run1", "my run", "exp1/run-2", "été"])
def test_plain_relative_job_names_are_accepted(name: str) -> None:
    assert checked_spec(spec(job_name=name)).job_name == name


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../bob", "a/../../b", "/abs", "a\\b", "a\x00b", "a//b", "a/", "./a"],
)
def test_job_names_that_could_leave_the_tree_or_are_not_normal_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="job_name"):
        checked_spec(spec(job_name=name))


def test_input_ids_are_normalised() -> None:
    inputs = InputFolders(config_id="exp1/", data_ids=("a//b/", "./c"), artifact_ids=("m/",))
    checked = checked_spec(spec(inputs=inputs)).inputs
    assert checked == InputFolders(config_id="exp1", data_ids=("a/b", "c"), artifact_ids=("m",))


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (InputFolders(config_id="../bob/config"), "config_id"),
        (InputFolders(config_id="/etc"), "config_id"),
        (InputFolders(config_id=""), "config_id"),
        (InputFolders(config_id="exp1", data_ids=("..",)), "data_ids"),
        (InputFolders(config_id="exp1", data_ids=("a\\..\\b",)), "data_ids"),
        (InputFolders(config_id="exp1", artifact_ids=("m\x00",)), "artifact_ids"),
        (InputFolders(config_id="exp1", artifact_ids=("/",)), "artifact_ids"),
    ],
)
def test_input_ids_that_could_leave_the_tree_are_refused(inputs: InputFolders, field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        checked_spec(spec(inputs=inputs))


def test_input_folders_are_named_below_their_root_with_their_catalogue_key() -> None:
    inputs = InputFolders(config_id="c", data_ids=("d1", "d2"), artifact_ids=("a",))
    assert inputs.folders() == [
        ("config_id", "config/c"),
        ("data_ids", "data/d1"),
        ("data_ids", "data/d2"),
        ("artifact_ids", "artifact/a"),
    ]


def test_results_go_to_folders_named_after_the_job() -> None:
    assert paths_out("exp/run1") == {
        "output": "output/exp/run1",
        "log": "log/exp/run1",
        "artifact": "artifact/exp/run1",
    }


def test_a_name_not_in_normal_form_still_gives_normal_folders() -> None:
    """Rows written by the original service may hold names that never passed our checks."""
    assert paths_out("/exp//./run1/")["log"] == "log/exp/run1"


def test_the_first_pulled_sets_the_start_date_and_later_ones_keep_it() -> None:
    pulled = with_status(queued_job(), JobStatus.PULLED, None, T1)
    again = with_status(with_status(pulled, JobStatus.QUEUED, None, T2), JobStatus.PULLED, None, T2)
    assert pulled.date_started == T1
    assert again.date_started == T1


def test_running_without_pulled_sets_no_start_date() -> None:
    assert with_status(queued_job(), JobStatus.RUNNING, None, T1).date_started is None


@pytest.mark.parametrize("end", [JobStatus.FINISHED, JobStatus.ERROR])
def test_the_first_end_sets_the_finish_date_and_it_is_never_overwritten(end: JobStatus) -> None:
    ended = with_status(queued_job(), end, None, T1)
    retried = with_status(with_status(ended, JobStatus.QUEUED, None, T2), JobStatus.ERROR, None, T2)
    assert ended.date_finished == T1
    assert retried.date_finished == T1


def test_any_transition_is_accepted_including_back_to_queued() -> None:
    finished = with_status(queued_job(), JobStatus.FINISHED, None, T1)
    assert with_status(finished, JobStatus.QUEUED, None, T2).status is JobStatus.QUEUED


def test_runtime_details_are_appended_after_a_newline() -> None:
    job = with_status(queued_job(), JobStatus.RUNNING, "step 1", T1)
    job = with_status(job, JobStatus.RUNNING, "step 2", T2)
    assert job.runtime_details == "step 1\nstep 2"


@pytest.mark.parametrize("details", [None, ""])
def test_empty_runtime_details_change_nothing(details: str | None) -> None:
    assert appended_details("kept", details) == "kept"
    assert appended_details(None, details) is None


def test_a_job_enters_its_end_only_when_its_status_changes_to_finished_or_error() -> None:
    assert has_entered_end(JobStatus.RUNNING, JobStatus.FINISHED)
    assert has_entered_end(JobStatus.FINISHED, JobStatus.ERROR)
    assert not has_entered_end(JobStatus.FINISHED, JobStatus.FINISHED)
    assert not has_entered_end(JobStatus.RUNNING, JobStatus.RUNNING)
    assert not has_entered_end(JobStatus.ERROR, JobStatus.QUEUED)


@pytest.mark.parametrize(
    "changes",
    [
        {"env_vars": {"KEY\x00": "value"}},
        {"env_vars": {"KEY": "va\x00lue"}},
        {"hardware": Hardware(gpu_model="A100\x00")},
    ],
)
def test_job_text_with_nul_characters_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        checked_spec(spec(**changes))


def test_nul_characters_in_runtime_details_are_dropped_not_refused() -> None:
    assert appended_details("started", "out\x00put") == "started\noutput"
    assert appended_details("started", "\x00") == "started"
