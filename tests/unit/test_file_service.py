"""Use cases on a user's tree, run against the in-memory storage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes import InMemoryFileStorage
from userfacing_api.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotAllowed,
    NotFound,
    PreconditionFailed,
)
from userfacing_api.domain.files import FileInfo, FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import ROOT_FOLDERS, UserPath
from userfacing_api.service_layer.files import FileService

ALICE = UserId("alice")
BOB = UserId("bob")


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def storage() -> InMemoryFileStorage:
    return InMemoryFileStorage()


@pytest.fixture
def service(storage: InMemoryFileStorage) -> FileService:
    return FileService(storage)


async def upload(
    service: FileService, kind: str, folder: str, name: str, content: bytes
) -> FileInfo:
    return await service.upload(ALICE, kind, folder, name, chunks_of(content))


def paths(entries: list[FileInfo]) -> list[str]:
    return [entry.path for entry in entries]


async def test_the_five_root_folders_are_created_on_first_use(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    assert storage.paths("alice") == set()

    listed = await service.list_folder(ALICE, "", show_dirs=True, recursive=False)

    assert paths(listed) == sorted(ROOT_FOLDERS)
    assert all(entry.type is FileType.DIRECTORY for entry in listed)
    assert storage.paths("alice") == set(ROOT_FOLDERS)


async def test_each_user_gets_a_tree_of_their_own(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "exp1", "a.tif", b"alice's")

    listed = await service.list_folder(BOB, "data", show_dirs=True, recursive=True)

    assert listed == []
    assert storage.paths("bob") == set(ROOT_FOLDERS)
    with pytest.raises(NotFound):
        await service.stat(BOB, "data/exp1/a.tif")


async def test_a_listing_is_sorted_by_path(service: FileService) -> None:
    for name in ("c.tif", "a.tif", "b.tif"):
        await upload(service, "data", "exp1", name, b"x")
    await service.create_folder(ALICE, "data", "exp1/b")

    listed = await service.list_folder(ALICE, "data/exp1", show_dirs=True, recursive=False)

    assert paths(listed) == ["data/exp1/a.tif", "data/exp1/b", "data/exp1/b.tif", "data/exp1/c.tif"]


async def test_a_listing_without_folders_shows_only_files(service: FileService) -> None:
    await upload(service, "data", "exp1", "a.tif", b"x")
    await upload(service, "data", "exp1/deep", "b.tif", b"x")

    flat = await service.list_folder(ALICE, "data", show_dirs=False, recursive=False)
    deep = await service.list_folder(ALICE, "data", show_dirs=False, recursive=True)
    with_dirs = await service.list_folder(ALICE, "data", show_dirs=True, recursive=True)

    assert flat == []
    assert paths(deep) == ["data/exp1/a.tif", "data/exp1/deep/b.tif"]
    assert paths(with_dirs) == [
        "data/exp1",
        "data/exp1/a.tif",
        "data/exp1/deep",
        "data/exp1/deep/b.tif",
    ]


async def test_a_folder_path_is_normalised_before_listing(service: FileService) -> None:
    await upload(service, "data", "exp1", "a.tif", b"x")

    listed = await service.list_folder(ALICE, "/data//exp1/", show_dirs=True, recursive=False)
    root = await service.list_folder(ALICE, "//", show_dirs=True, recursive=False)

    assert paths(listed) == ["data/exp1/a.tif"]
    assert paths(root) == sorted(ROOT_FOLDERS)


async def test_listing_a_missing_folder_or_a_file_is_not_found(service: FileService) -> None:
    await upload(service, "data", "", "a.tif", b"x")

    with pytest.raises(NotFound):
        await service.list_folder(ALICE, "data/missing", show_dirs=True, recursive=False)
    with pytest.raises(NotFound):
        await service.list_folder(ALICE, "data/a.tif", show_dirs=True, recursive=False)


async def test_an_upload_lands_in_its_folder(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    info = await upload(service, "config", "run1", "param.yaml", b"a: 1")

    assert info.path == "config/run1/param.yaml"
    assert info.size == 4
    assert storage.content("alice", "config/run1/param.yaml") == b"a: 1"


@pytest.mark.parametrize("kind", ["output", "log", "other", "", "../data"])
async def test_uploads_go_only_into_config_data_or_artifact(
    service: FileService, storage: InMemoryFileStorage, kind: str
) -> None:
    with pytest.raises(InvalidInput, match="config, data, artifact"):
        await upload(service, kind, "exp1", "a.tif", b"x")
    with pytest.raises(InvalidInput):
        await service.create_folder(ALICE, kind, "exp1")
    with pytest.raises(InvalidInput):
        await service.upload_request(ALICE, kind, "exp1")

    assert storage.files == {}


@pytest.mark.parametrize("name", ["a/b.tif", "..", "", "/", "a\\b"])
async def test_an_upload_file_name_must_be_one_plain_segment(
    service: FileService, storage: InMemoryFileStorage, name: str
) -> None:
    with pytest.raises(InvalidInput):
        await upload(service, "data", "exp1", name, b"x")

    assert storage.files == {}


async def test_an_upload_cannot_replace_a_folder(service: FileService) -> None:
    await service.create_folder(ALICE, "data", "exp1/a.tif")

    with pytest.raises(AlreadyExists):
        await upload(service, "data", "exp1", "a.tif", b"x")


async def test_an_upload_replaces_a_file_of_the_same_name(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "exp1", "a.tif", b"old")

    await upload(service, "data", "exp1", "a.tif", b"new!")

    assert storage.content("alice", "data/exp1/a.tif") == b"new!"


async def test_creating_a_folder_makes_its_parents(service: FileService) -> None:
    created = await service.create_folder(ALICE, "artifact", "/model/v1/")

    assert created == FileInfo(path="artifact/model/v1", type=FileType.DIRECTORY)
    assert (await service.stat(ALICE, "artifact/model")).is_dir


async def test_a_folder_cannot_be_created_where_a_file_is(service: FileService) -> None:
    await upload(service, "data", "", "exp1", b"x")

    with pytest.raises(AlreadyExists):
        await service.create_folder(ALICE, "data", "exp1")


async def test_renaming_a_file_moves_it(service: FileService, storage: InMemoryFileStorage) -> None:
    await upload(service, "data", "exp1", "a.tif", b"content")

    renamed = await service.rename(ALICE, "data/exp1/a.tif", "/data/exp2/b.tif")

    assert renamed.path == "data/exp2/b.tif"
    assert renamed.size == 7
    assert storage.content("alice", "data/exp2/b.tif") == b"content"
    with pytest.raises(NotFound):
        await service.stat(ALICE, "data/exp1/a.tif")


async def test_renaming_an_empty_folder_moves_it(service: FileService) -> None:
    await service.create_folder(ALICE, "data", "old")

    renamed = await service.rename(ALICE, "data/old", "artifact/new")

    assert renamed.path == "artifact/new"
    assert renamed.is_dir


async def test_renaming_something_missing_is_not_found(service: FileService) -> None:
    with pytest.raises(NotFound):
        await service.rename(ALICE, "data/missing.tif", "data/b.tif")


async def test_renaming_a_folder_with_content_is_not_allowed(service: FileService) -> None:
    await upload(service, "data", "exp1", "a.tif", b"x")

    with pytest.raises(NotAllowed):
        await service.rename(ALICE, "data/exp1", "data/exp2")


@pytest.mark.parametrize("folder", [*ROOT_FOLDERS, "", "/", "data/"])
async def test_the_root_and_its_five_folders_cannot_be_renamed(
    service: FileService, folder: str
) -> None:
    with pytest.raises(NotAllowed):
        await service.rename(ALICE, folder, "data/renamed")


@pytest.mark.parametrize("target", [*ROOT_FOLDERS, "", "/"])
async def test_nothing_can_be_renamed_to_the_root_or_its_five_folders(
    service: FileService, target: str
) -> None:
    await upload(service, "data", "", "a.tif", b"x")

    with pytest.raises(NotAllowed):
        await service.rename(ALICE, "data/a.tif", target)


async def test_nothing_can_be_renamed_out_of_the_five_folders(service: FileService) -> None:
    await upload(service, "data", "", "a.tif", b"x")

    with pytest.raises(InvalidInput):
        await service.rename(ALICE, "data/a.tif", "a.tif")
    with pytest.raises(InvalidInput):
        await service.rename(ALICE, "data/a.tif", "elsewhere/a.tif")

    assert (await service.stat(ALICE, "data/a.tif")).size == 1


async def test_renaming_onto_an_existing_file_replaces_it(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "", "a.tif", b"a")
    await upload(service, "data", "", "b.tif", b"old b")

    renamed = await service.rename(ALICE, "data/a.tif", "data/b.tif")

    assert renamed.path == "data/b.tif"
    assert renamed.size == 1
    assert storage.content(ALICE, "data/b.tif") == b"a"
    with pytest.raises(NotFound):
        await service.stat(ALICE, "data/a.tif")


async def test_renaming_onto_an_existing_file_without_replacing_fails_the_precondition(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "", "a.tif", b"a")
    await upload(service, "data", "", "b.tif", b"b")

    with pytest.raises(PreconditionFailed):
        await service.rename(ALICE, "data/a.tif", "data/b.tif", replace=False)

    assert storage.content(ALICE, "data/a.tif") == b"a"
    assert storage.content(ALICE, "data/b.tif") == b"b"


async def test_renaming_onto_a_folder_is_a_conflict(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "", "a.tif", b"a")
    await service.create_folder(ALICE, "data", "b.tif")

    with pytest.raises(AlreadyExists):
        await service.rename(ALICE, "data/a.tif", "data/b.tif")

    assert storage.content(ALICE, "data/a.tif") == b"a"


async def test_renaming_a_file_to_its_own_path_changes_nothing(service: FileService) -> None:
    uploaded = await upload(service, "data", "", "a.tif", b"a")

    assert await service.rename(ALICE, "data/a.tif", "/data/a.tif") == uploaded


async def test_deleting_a_file_or_folder_removes_it(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "exp1", "a.tif", b"x")
    await upload(service, "data", "exp2/deep", "b.tif", b"x")

    await service.delete(ALICE, "data/exp1/a.tif")
    await service.delete(ALICE, "data/exp2")

    assert storage.paths("alice") == {*ROOT_FOLDERS, "data/exp1"}


async def test_deleting_something_missing_is_fine(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await service.delete(ALICE, "data/missing")

    assert storage.paths("alice") == set(ROOT_FOLDERS)


async def test_deleting_a_root_folder_empties_it_but_keeps_it(
    service: FileService, storage: InMemoryFileStorage
) -> None:
    await upload(service, "data", "exp1", "a.tif", b"x")
    await upload(service, "data", "", "b.tif", b"x")
    await upload(service, "config", "", "c.yaml", b"x")

    await service.delete(ALICE, "/data/")

    assert storage.paths("alice") == {*ROOT_FOLDERS, "config/c.yaml"}


@pytest.mark.parametrize("root", ["", "/", "//"])
async def test_deleting_the_root_empties_all_five_folders(
    service: FileService, storage: InMemoryFileStorage, root: str
) -> None:
    for kind in ("config", "data", "artifact"):
        await upload(service, kind, "sub", "a", b"x")
    await storage.write(ALICE, UserPath("output/job1/result.h5"), chunks_of(b"r"))
    await storage.write(ALICE, UserPath("log/job1/log.txt"), chunks_of(b"l"))
    await upload(service, "data", "", "other", b"x")

    await service.delete(ALICE, root)

    assert storage.paths("alice") == set(ROOT_FOLDERS)


async def test_folder_entries_are_the_files_below_with_relative_paths(service: FileService) -> None:
    await upload(service, "data", "exp1", "b.tif", b"x")
    await upload(service, "data", "exp1/deep", "a.tif", b"x")
    await service.create_folder(ALICE, "data", "exp1/empty")
    folder = await service.stat(ALICE, "data/exp1")

    entries = await service.folder_entries(ALICE, folder)

    assert [(e.archive_path, e.info.path) for e in entries] == [
        ("b.tif", "data/exp1/b.tif"),
        ("deep/a.tif", "data/exp1/deep/a.tif"),
    ]


async def test_a_file_streams_back_through_the_service(service: FileService) -> None:
    await upload(service, "data", "", "a.bin", b"0123456789")
    info = await service.stat(ALICE, "data/a.bin")

    whole = b"".join([chunk async for chunk in service.read(ALICE, info)])
    ranged = b"".join([chunk async for chunk in service.read(ALICE, info, 2, 5)])

    assert whole == b"0123456789"
    assert ranged == b"234"


async def test_direct_transfer_requests_are_absent_without_direct_access(
    service: FileService,
) -> None:
    await upload(service, "data", "", "a.bin", b"x")

    assert await service.download_request(ALICE, "data/a.bin") is None
    assert await service.upload_request(ALICE, "data", "exp1") is None
    with pytest.raises(NotFound):
        await service.download_request(ALICE, "data/missing.bin")
