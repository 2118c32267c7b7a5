"""`normalise_path` is the gate every user-supplied path goes through."""

from __future__ import annotations

import pytest

from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.files import MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH, normalise_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("data/exp1/a.tif", "data/exp1/a.tif"),
        ("/data/exp1/", "data/exp1"),
        ("data//exp1///a.tif", "data/exp1/a.tif"),
        ("./data/./exp1/.", "data/exp1"),
        ("/etc/passwd", "etc/passwd"),
        ("", ""),
        ("/", ""),
        ("//", ""),
        (".", ""),
        ("./", ""),
    ],
)
def test_slashes_and_dot_segments_are_dropped(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    "name",
    ["...", "..a", "a..", ".hidden", "a b.tif", "Mikroskopie-ä-μ.tif", "data#1", "a?b=c"],
)
def test_unusual_but_harmless_names_are_kept(name: str) -> None:
    assert normalise_path(f"data/{name}") == f"data/{name}"


@pytest.mark.parametrize("raw", ["%2e%2e/x", "data%2F..%2Fx", "%2E%2E", "a%00b", "a%5Cb", "%2f"])
def test_percent_encoded_forms_stay_literal(raw: str) -> None:
    assert normalise_path(raw) == raw


@pytest.mark.parametrize("raw", ["..", "../x", "data/..", "data/../x", "/../x", "data/./../x"])
def test_parent_segments_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match=r"\.\."):
        normalise_path(raw)


@pytest.mark.parametrize("raw", ["a\\b", "..\\x", "data\\..\\..\\x", "\\"])
def test_backslashes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="backslash"):
        normalise_path(raw)


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f"])
def test_nul_and_control_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidInput, match="control"):
        normalise_path(f"data/a{char}b")


def test_a_segment_up_to_the_limit_is_accepted() -> None:
    name = "a" * MAX_SEGMENT_LENGTH

    assert normalise_path(f"data/{name}") == f"data/{name}"


def test_a_longer_segment_is_refused() -> None:
    with pytest.raises(InvalidInput, match="segment"):
        normalise_path("data/" + "a" * (MAX_SEGMENT_LENGTH + 1))


def test_a_path_up_to_the_limit_is_accepted() -> None:
    raw = "/".join(["a" * 100] * 10) + "/" + "b" * (MAX_PATH_LENGTH - 1010)

    assert len(raw) == MAX_PATH_LENGTH
    assert normalise_path(raw) == raw


def test_a_longer_path_is_refused_even_when_it_would_shrink() -> None:
    with pytest.raises(InvalidInput, match="longer"):
        normalise_path("/" * (MAX_PATH_LENGTH + 1))
