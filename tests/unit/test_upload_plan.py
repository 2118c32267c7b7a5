"""How upload sessions cut a file into parts: legal for S3 at every size up to 5 TiB."""

from __future__ import annotations

import pytest

from userfacing_api.domain.errors import InvalidInput, TooLarge
from userfacing_api.domain.uploads import (
    MAX_PARTS,
    MAX_UPLOAD_SIZE,
    GiB,
    MiB,
    PartPlan,
    number_ranges,
    plan_parts,
)

S3_MIN_PART = 5 * MiB
S3_MAX_PART = 5 * GiB


def assert_legal_for_s3(plan: PartPlan) -> None:
    """At most 10,000 parts, each 5 MiB to 5 GiB but the last, adding up to the size."""
    lengths = [plan.length_of(number) for number in range(1, plan.part_count + 1)]
    assert 1 <= plan.part_count <= MAX_PARTS
    assert all(S3_MIN_PART <= length <= S3_MAX_PART for length in lengths[:-1])
    assert 0 <= lengths[-1] <= plan.part_size <= S3_MAX_PART
    assert sum(lengths) == plan.size


def test_an_11_gib_file_is_planned_in_at_most_10000_legal_parts() -> None:
    plan = plan_parts(11 * GiB)

    assert_legal_for_s3(plan)
    assert plan.part_size == 8 * MiB
    assert plan.part_count == 1408


@pytest.mark.parametrize(
    "size",
    [0, 1, 8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 80_000 * MiB, 80_000 * MiB + 1, 3 * 1024 * GiB],
)
def test_every_size_gets_a_legal_plan(size: int) -> None:
    assert_legal_for_s3(plan_parts(size))


def test_the_largest_object_s3_holds_is_planned_in_whole_mib_parts() -> None:
    plan = plan_parts(MAX_UPLOAD_SIZE)

    assert_legal_for_s3(plan)
    assert plan.part_size % MiB == 0
    assert plan.part_count == 9987


def test_a_file_above_5_tib_or_the_configured_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        plan_parts(MAX_UPLOAD_SIZE + 1)
    with pytest.raises(TooLarge):
        plan_parts(101, max_size=100)
    assert plan_parts(100, max_size=100).size == 100


def test_a_negative_size_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        plan_parts(-1)


def test_only_parts_of_their_exact_length_count_as_done() -> None:
    plan = plan_parts(2 * 8 * MiB + 5)

    stored = {1: 8 * MiB, 2: 8 * MiB - 1, 3: 5, 4: 5}

    assert plan.complete_parts(stored) == [1, 3]
    assert plan.missing_parts(stored) == [2]


def test_part_numbers_outside_the_plan_are_invalid() -> None:
    plan = plan_parts(10)

    for number in (0, 2):
        with pytest.raises(InvalidInput):
            plan.length_of(number)


def test_part_lists_are_written_as_ranges() -> None:
    assert number_ranges([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert number_ranges([4]) == "4"
    assert number_ranges([]) == ""
