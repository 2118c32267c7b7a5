"""What upload sessions promise on every storage (local disk and S3), checked on each."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from contextlib import suppress

import pytest

from tests.contract.upload_backends import TTL, UploadWorld
from userfacing_api.domain.errors import (
    AlreadyExists,
    BadRequest,
    Incomplete,
    InvalidInput,
    NotFound,
    TooLarge,
)
from userfacing_api.domain.files import FileType
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.paths import UserPath
from userfacing_api.domain.uploads import MIN_PART_SIZE

ALICE, BOB = UserId("alice"), UserId("bob")
PART = MIN_PART_SIZE
# Three parts: two whole ones and a short last one.
CONTENT = random.Random(12).randbytes(2 * PART + 1000)
PARTS = {1: CONTENT[:PART], 2: CONTENT[PART : 2 * PART], 3: CONTENT[2 * PART :]}


async def read_all(world: UploadWorld, user_id: UserId, path: str) -> bytes:
    return b"".join([chunk async for chunk in world.files.read(user_id, UserPath(path))])


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def test_a_session_is_planned_from_the_declared_size(world: UploadWorld) -> None:
    created = await world.service().create(ALICE, "data/exp1/movie.tif", len(CONTENT))

    session = created.session
    assert (session.path, session.plan.size) == ("data/exp1/movie.tif", len(CONTENT))
    assert (session.plan.part_size, session.plan.part_count) == (PART, 3)
    assert created.parts_done == []
    assert session.expires_at == world.clock.now() + TTL
    fetched = await world.service().get(ALICE, session.upload_id)
    assert fetched == created


async def test_parts_in_any_order_and_in_parallel_make_the_file(world: UploadWorld) -> None:
    service = world.service()
    upload_id = (await service.create(ALICE, "data/exp1/movie.tif", len(CONTENT))).session.upload_id

    await asyncio.gather(
        *(world.send_part(ALICE, upload_id, number, PARTS[number]) for number in (3, 1, 2))
    )
    progress = await service.get(ALICE, upload_id)
    info = await service.complete(ALICE, upload_id)

    assert progress.parts_done == [1, 2, 3]
    assert info.path == "data/exp1/movie.tif"
    assert info.type is FileType.FILE
    assert info.size == len(CONTENT)
    assert info.modified is not None
    assert await world.files.stat(ALICE, UserPath("data/exp1/movie.tif")) == info
    assert digest(await read_all(world, ALICE, "data/exp1/movie.tif")) == digest(CONTENT)
    assert await world.uploads.stored_parts((await service.get(ALICE, upload_id)).session) == {}


async def test_a_client_that_lost_its_state_resumes_after_a_crash(world: UploadWorld) -> None:
    before_crash = world.service()
    upload_id = (await before_crash.create(ALICE, "data/big.tif", len(CONTENT))).session.upload_id
    await world.send_part(ALICE, upload_id, 2, PARTS[2])
    del before_crash  # the client crashes, the service restarts: only the storage remembers

    resumed = await world.service().get(ALICE, upload_id)
    for number in range(1, resumed.session.plan.part_count + 1):
        if number not in resumed.parts_done:
            await world.send_part(ALICE, upload_id, number, PARTS[number])
    await world.service().complete(ALICE, upload_id)

    assert resumed.parts_done == [2]
    assert digest(await read_all(world, ALICE, "data/big.tif")) == digest(CONTENT)


async def test_complete_names_the_missing_parts_and_shows_no_file(world: UploadWorld) -> None:
    service = world.service()
    upload_id = (await service.create(ALICE, "data/a.tif", len(CONTENT))).session.upload_id
    await world.send_part(ALICE, upload_id, 2, PARTS[2])

    with pytest.raises(Incomplete) as refused:
        await service.complete(ALICE, upload_id)

    assert "1, 3" in refused.value.detail
    assert await world.files.stat(ALICE, UserPath("data/a.tif")) is None


async def test_a_part_of_the_wrong_size_is_refused_or_not_counted(world: UploadWorld) -> None:
    service = world.service()
    upload_id = (await service.create(ALICE, "data/a.tif", len(CONTENT))).session.upload_id
    await world.send_part(ALICE, upload_id, 1, PARTS[1])
    await world.send_part(ALICE, upload_id, 3, PARTS[3])

    # Refused as it arrives where the bytes pass the service; S3 may store it.
    with suppress(BadRequest):
        await world.send_part(ALICE, upload_id, 2, PARTS[2][:-1])

    assert (await service.get(ALICE, upload_id)).parts_done == [1, 3]
    with pytest.raises(Incomplete) as refused:
        await service.complete(ALICE, upload_id)
    assert refused.value.detail.endswith(": 2")
    await world.send_part(ALICE, upload_id, 2, PARTS[2])
    await service.complete(ALICE, upload_id)
    assert digest(await read_all(world, ALICE, "data/a.tif")) == digest(CONTENT)


async def test_completing_again_answers_the_same_file(world: UploadWorld) -> None:
    service = world.service()
    upload_id = (await service.create(ALICE, "data/a.bin", 5)).session.upload_id
    await world.send_part(ALICE, upload_id, 1, b"12345")
    first = await service.complete(ALICE, upload_id)

    again = await world.service().complete(ALICE, upload_id)

    assert again == first
    assert await service.list(ALICE) == []
    assert (await service.get(ALICE, upload_id)).parts_done == [1]
    with pytest.raises(AlreadyExists):
        await world.send_part(ALICE, upload_id, 1, b"12345")


async def test_completing_replaces_an_existing_file(world: UploadWorld) -> None:
    await world.files.write(ALICE, UserPath("data/a.bin"), _single(b"old content"))
    service = world.service()
    upload_id = (await service.create(ALICE, "data/a.bin", 3)).session.upload_id
    await world.send_part(ALICE, upload_id, 1, b"new")

    assert await read_all(world, ALICE, "data/a.bin") == b"old content"
    info = await service.complete(ALICE, upload_id)

    assert info.size == 3
    assert await read_all(world, ALICE, "data/a.bin") == b"new"


async def test_an_empty_file_is_one_empty_part(world: UploadWorld) -> None:
    service = world.service()
    created = await service.create(ALICE, "config/empty.yaml", 0)
    upload_id = created.session.upload_id

    await world.send_part(ALICE, upload_id, 1, b"")
    info = await service.complete(ALICE, upload_id)

    assert created.session.plan.part_count == 1
    assert info.size == 0
    assert await read_all(world, ALICE, "config/empty.yaml") == b""


async def test_a_deleted_session_is_gone_with_its_parts(world: UploadWorld) -> None:
    service = world.service()
    created = await service.create(ALICE, "data/a.tif", len(CONTENT))
    upload_id = created.session.upload_id
    await world.send_part(ALICE, upload_id, 1, PARTS[1])

    await service.delete(ALICE, upload_id)

    with pytest.raises(NotFound):
        await service.get(ALICE, upload_id)
    with pytest.raises(NotFound):
        await service.complete(ALICE, upload_id)
    assert await world.uploads.stored_parts(created.session) == {}
    assert await world.uploads.sessions() == []


async def test_an_expired_session_is_not_found_and_swept_with_its_parts(
    world: UploadWorld,
) -> None:
    service = world.service()
    expiring = await service.create(ALICE, "data/a.tif", len(CONTENT))
    await world.send_part(ALICE, expiring.session.upload_id, 1, PARTS[1])
    world.clock.advance(TTL.total_seconds() - 60)
    fresh = await service.create(ALICE, "data/b.tif", 10)
    world.clock.advance(60)

    with pytest.raises(NotFound):
        await service.get(ALICE, expiring.session.upload_id)
    assert [p.session.upload_id for p in await service.list(ALICE)] == [fresh.session.upload_id]
    assert await service.sweep() == 1

    assert await world.uploads.stored_parts(expiring.session) == {}
    assert [s.upload_id for s in await world.uploads.sessions()] == [fresh.session.upload_id]


async def test_sessions_are_private_to_their_user(world: UploadWorld) -> None:
    service = world.service()
    mine = await service.create(ALICE, "data/a.tif", 10)
    theirs = await service.create(BOB, "data/a.tif", 10)

    with pytest.raises(NotFound):
        await service.get(BOB, mine.session.upload_id)
    with pytest.raises(NotFound):
        await service.part_request(BOB, mine.session.upload_id, 1)
    with pytest.raises(NotFound):
        await service.delete(BOB, mine.session.upload_id)
    assert [p.session.upload_id for p in await service.list(ALICE)] == [mine.session.upload_id]
    assert [p.session.upload_id for p in await service.list(BOB)] == [theirs.session.upload_id]


@pytest.mark.parametrize("upload_id", ["nope", "../../etc", "0" * 32, "A" * 32])
async def test_an_unknown_session_is_not_found(world: UploadWorld, upload_id: str) -> None:
    with pytest.raises(NotFound):
        await world.service().get(ALICE, upload_id)


@pytest.mark.parametrize(
    "path", ["output/run/a.tif", "log/a.txt", "data", "data/", "../data/a", "secret/a.tif", ""]
)
async def test_a_session_takes_the_paths_a_file_upload_takes(world: UploadWorld, path: str) -> None:
    with pytest.raises(InvalidInput):
        await world.service().create(ALICE, path, 10)

    assert await world.uploads.sessions() == []


async def test_a_session_cannot_target_a_folder(world: UploadWorld) -> None:
    await world.files.make_folder(ALICE, UserPath("data/exp1"))

    with pytest.raises(AlreadyExists):
        await world.service().create(ALICE, "data/exp1", 10)


async def test_a_file_larger_than_allowed_is_refused(world: UploadWorld) -> None:
    world.max_size = 1000

    with pytest.raises(TooLarge):
        await world.service().create(ALICE, "data/a.tif", 1001)
    with pytest.raises(TooLarge):
        await world.service().create(ALICE, "data/a.tif", 5 * 1024**4 + 1)
    assert (await world.service().create(ALICE, "data/a.tif", 1000)).session.plan.size == 1000


async def test_part_numbers_outside_the_plan_are_invalid(world: UploadWorld) -> None:
    upload_id = (await world.service().create(ALICE, "data/a.tif", 10)).session.upload_id

    for number in (0, 2, -1):
        with pytest.raises(InvalidInput):
            await world.service().part_request(ALICE, upload_id, number)


async def _single(content: bytes) -> AsyncIterator[bytes]:
    yield content
