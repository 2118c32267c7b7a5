"""`UserPath` and `UserId`: the gate every user-supplied path and user id goes through."""

from __future__ import annotations

import pytest

from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import (
    MAX_PATH_LENGTH,
    MAX_SEGMENT_LENGTH,
    ROOT,
    TopFolder,
    UserPath,
    normalise_path,
)


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


@pytest.mark.parametrize(
    "raw", ["a" * MAX_SEGMENT_LENGTH, "-x", "_", "x.", "x..y", "a-b/c_d.tif", "A9/.x/y"]
)
def test_paths_already_in_normal_form_are_kept_as_they_are(raw: str) -> None:
    assert normalise_path(raw) == raw


@pytest.mark.parametrize("raw", ["a" * (MAX_SEGMENT_LENGTH + 1), "b/" + "a" * 300])
def test_a_plain_segment_over_the_limit_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="segment"):
        normalise_path(raw)


def test_a_path_up_to_the_limit_is_accepted() -> None:
    raw = "/".join(["a" * 100] * 10) + "/" + "b" * (MAX_PATH_LENGTH - 1010)

    assert len(raw) == MAX_PATH_LENGTH
    assert normalise_path(raw) == raw


def test_a_longer_path_is_refused_even_when_it_would_shrink() -> None:
    with pytest.raises(InvalidInput, match="longer"):
        normalise_path("/" * (MAX_PATH_LENGTH + 1))


@pytest.mark.parametrize(
    ("raw", "expected"), [("/data", "data"), ("data/", "data"), ("data//a", "data/a"), ("./", "")]
)
def test_a_user_path_holds_the_normalised_form(raw: str, expected: str) -> None:
    assert UserPath(raw) == expected


@pytest.mark.parametrize("raw", ["../bob/data", "data/../../x", "data\\..\\x", "data/a\x00b"])
def test_a_user_path_leading_out_of_the_tree_cannot_be_made(raw: str) -> None:
    with pytest.raises(InvalidInput):
        UserPath(raw)


@pytest.mark.parametrize(
    ("raw", "top", "reserved"),
    [
        ("", None, True),
        ("data", TopFolder.DATA, True),
        ("log/job/run.log", TopFolder.LOG, False),
        ("elsewhere/a", None, False),
        ("dataset", None, False),
    ],
)
def test_a_user_path_knows_its_top_folder(raw: str, top: TopFolder | None, reserved: bool) -> None:
    path = UserPath(raw)

    assert path.top is top
    assert path.is_reserved is reserved
    assert path.is_root is (raw == "")


def test_a_user_path_knows_its_parent_name_and_ancestors() -> None:
    path = UserPath("data/exp1/a.tif")

    assert path.parent == "data/exp1"
    assert path.parent.parent.parent == ROOT
    assert ROOT.parent == ROOT
    assert path.name == "a.tif"
    assert path.ancestors() == ["data", "data/exp1", "data/exp1/a.tif"]
    assert ROOT.ancestors() == []


def test_joining_below_a_user_path_normalises_the_part_added() -> None:
    assert UserPath("data") / "/exp1//a.tif" == "data/exp1/a.tif"
    assert UserPath("data") / "" == "data"
    assert ROOT / "data" == "data"
    with pytest.raises(InvalidInput):
        UserPath("data") / "../../x"


def test_joining_a_user_path_below_another_keeps_it_as_it_is() -> None:
    assert UserPath("data") / UserPath("/exp1//a.tif") == "data/exp1/a.tif"
    assert UserPath("data") / ROOT == "data"
    assert ROOT / UserPath("data") == "data"
    assert ROOT / ROOT == ROOT
    for joined in (UserPath("data") / UserPath("exp1"), ROOT / UserPath("data"), ROOT / ROOT):
        assert type(joined) is UserPath


def test_every_top_folder_is_its_own_user_path() -> None:
    for folder in TopFolder:
        assert folder.path == UserPath(folder.value)
        assert folder.path.top is folder


@pytest.mark.parametrize(
    ("outer", "inner", "contained"),
    [
        ("data", "data", True),
        ("data", "data/a", True),
        ("data", "dataset/a", False),
        ("data/a", "data", False),
        ("", "log", True),
    ],
)
def test_a_user_path_contains_itself_and_what_lies_below(
    outer: str, inner: str, contained: bool
) -> None:
    assert UserPath(outer).contains(UserPath(inner)) is contained


def test_a_path_relative_to_a_folder_drops_the_folder() -> None:
    assert UserPath("data/exp1").relative("data/exp1/sub/a.tif") == "sub/a.tif"
    assert ROOT.relative("data/a.tif") == "data/a.tif"


@pytest.mark.parametrize("raw", ["", ".", "..", "a/b", "/a", "a\\b", "a\x00b"])
def test_user_ids_that_are_not_one_plain_segment_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        UserId(raw)


@pytest.mark.parametrize("raw", [".upload-sessions", ".hidden"])
def test_user_ids_starting_with_a_dot_are_left_to_the_services_own_folders(raw: str) -> None:
    with pytest.raises(InvalidInput):
        UserId(raw)


def test_a_user_id_is_the_text_it_was_made_of() -> None:
    assert UserId("0b5a7c1e-alice") == "0b5a7c1e-alice"
