"""The subjects seen lately: the last ones noted, the oldest forgotten first."""

from __future__ import annotations

import pytest

from userfacing_api.adapters.recent_sightings import RecentSightings


def test_a_noted_subject_is_seen_lately() -> None:
    sightings = RecentSightings(3)

    sightings.note(7)

    assert 7 in sightings
    assert 8 not in sightings


def test_the_oldest_subject_is_forgotten_once_more_are_noted_than_its_size() -> None:
    sightings = RecentSightings(3)
    for subject in (1, 2, 3):
        sightings.note(subject)

    sightings.note(4)

    assert 1 not in sightings
    assert all(subject in sightings for subject in (2, 3, 4))
    assert len(sightings) == 3


@pytest.mark.parametrize("size", [0, -1])
def test_a_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RecentSightings(size)
