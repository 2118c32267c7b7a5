"""`decode-cloud` file commands against the running service, on local storage and on S3."""

from __future__ import annotations

import json
import os
import signal
import zipfile
from dataclasses import replace
from pathlib import Path

from tests.client.cli import Cli, assert_ok, assert_one_line_error, finish
from tests.client.conftest import Deployment
from tests.free_port import free_port
from tests.waiting import eventually

TREE = {
    "a.txt": b"hello\n",
    "sub/b.bin": os.urandom(3_000_000),
    "sub/deep/c.txt": b"x" * 10,
}


def make_tree(root: Path, files: dict[str, bytes] = TREE) -> Path:
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    (root / "empty").mkdir()
    return root


def files_below(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


async def test_a_folder_tree_goes_up_and_comes_back_byte_for_byte(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "exp1")

    uploaded = assert_ok(await scientist.run("upload", str(tree), "data/"))
    listed = assert_ok(await scientist.run("ls", "data/exp1", "-r", "--json"))
    downloaded = assert_ok(
        await scientist.run("download", "data/exp1", str(tmp_path / "back"), "--quiet")
    )

    assert uploaded.lines[-1] == "3 file(s), 3000016 bytes uploaded"
    assert f"uploaded: {tree / 'sub/b.bin'} -> data/exp1/sub/b.bin (3000000 bytes)" in (
        uploaded.lines
    )
    entries = {item["path"]: item for item in json.loads(listed.stdout)}
    assert set(entries) == {
        "data/exp1/a.txt",
        "data/exp1/empty/",
        "data/exp1/sub/",
        "data/exp1/sub/b.bin",
        "data/exp1/sub/deep/",
        "data/exp1/sub/deep/c.txt",
    }
    assert entries["data/exp1/sub/b.bin"]["size"] == "3.0 MB"
    assert downloaded.lines == ["3 file(s), 3000016 bytes downloaded"]
    assert files_below(tmp_path / "back") == TREE
    assert (tmp_path / "back" / "empty").is_dir()


async def test_skip_existing_leaves_out_files_already_there_with_the_same_size(
    local_scientist: Cli, tmp_path: Path
) -> None:
    scientist = local_scientist
    tree = make_tree(tmp_path / "exp1")
    assert_ok(await scientist.run("upload", str(tree), "data/", "-q"))
    (tree / "a.txt").write_bytes(b"changed and longer\n")

    again = assert_ok(await scientist.run("upload", str(tree), "data/", "--skip-existing"))
    fetched = assert_ok(await scientist.run("download", "data/exp1/a.txt", str(tmp_path)))

    assert again.lines == [
        "already there: data/exp1/sub/b.bin (3000000 bytes)",
        "already there: data/exp1/sub/deep/c.txt (10 bytes)",
        f"uploaded: {tree / 'a.txt'} -> data/exp1/a.txt (19 bytes)",
        "1 file(s), 19 bytes uploaded; 2 already there",
    ]
    assert fetched.lines[-1] == "1 file(s), 19 bytes downloaded"
    assert (tmp_path / "a.txt").read_bytes() == b"changed and longer\n"


async def test_a_folder_comes_as_one_zip_with_paths_relative_to_it(
    scientist: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "exp1")
    assert_ok(await scientist.run("upload", str(tree), "data/", "-q"))
    out = tmp_path / "out"
    out.mkdir()

    assert_ok(await scientist.run("download", "data/exp1", str(out), "--zip"))

    with zipfile.ZipFile(out / "exp1.zip") as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == TREE


async def test_a_download_continues_after_the_bytes_of_its_part_file(
    local_scientist: Cli, tmp_path: Path
) -> None:
    content = os.urandom(5_000_000)
    (tmp_path / "movie.tif").write_bytes(content)
    assert_ok(await local_scientist.run("upload", str(tmp_path / "movie.tif"), "data/exp1"))
    target = tmp_path / "back" / "movie.tif"
    target.parent.mkdir()
    # What an interrupted run leaves: the first bytes under the `.part` name.
    (target.parent / "movie.tif.part").write_bytes(content[:1_234_567])

    finished = assert_ok(await local_scientist.run("download", "data/exp1/movie.tif", str(target)))

    assert finished.lines[-1] == "1 file(s), 5000000 bytes downloaded"
    assert target.read_bytes() == content
    assert not (target.parent / "movie.tif.part").exists()


async def test_ctrl_c_stops_a_download_in_one_line_and_the_same_command_finishes_it(
    local_scientist: Cli, local_deployment: Deployment, tmp_path: Path
) -> None:
    size = 512 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(size)  # sparse: no disk time spent making it
    assert_ok(await local_scientist.run("upload", str(big), "data/", "-q"))
    target = tmp_path / "back.bin"
    partial = tmp_path / "back.bin.part"

    process = await local_scientist.start("download", "data/big.bin", str(target))
    await eventually(lambda: partial.exists() and partial.stat().st_size > 0, within=30)
    process.send_signal(signal.SIGINT)
    interrupted = await finish(process)
    stopped_at = partial.stat().st_size
    resumed = assert_ok(await local_scientist.run("download", "data/big.bin", str(target)))

    assert interrupted.returncode == 130, interrupted
    assert interrupted.stderr.splitlines() == ["interrupted: run the same command again to resume"]
    assert 0 < stopped_at < size
    assert resumed.lines[-1] == f"1 file(s), {size} bytes downloaded"
    assert target.stat().st_size == size
    with target.open("rb") as handle:
        while block := handle.read(16 * 1024 * 1024):
            assert block.count(0) == len(block)


async def test_mkdir_mv_and_rm_which_asks_before_deleting_a_folder(
    local_scientist: Cli, tmp_path: Path
) -> None:
    scientist = local_scientist
    (tmp_path / "a.txt").write_bytes(b"a")
    assert_ok(await scientist.run("mkdir", "data/exp2/raw"))
    assert_ok(await scientist.run("upload", str(tmp_path / "a.txt"), "data/exp2/raw", "-q"))

    moved = assert_ok(await scientist.run("mv", "data/exp2/raw/a.txt", "data/exp2/b.txt"))
    declined = await scientist.run("rm", "data/exp2", stdin="n\n")
    kept = assert_ok(await scientist.run("ls", "data/exp2", "-r"))
    confirmed = assert_ok(await scientist.run("rm", "data/exp2", stdin="y\n"))
    gone = await scientist.run("ls", "data/exp2")

    assert moved.lines == ["renamed data/exp2/raw/a.txt -> data/exp2/b.txt"]
    assert declined.returncode == 2
    assert "delete the folder data/exp2 and everything in it? [y/N]" in declined.stderr
    assert [line.split()[-1] for line in kept.lines] == [
        "PATH",
        "data/exp2/b.txt",
        "data/exp2/raw/",
    ]
    assert confirmed.lines == ["deleted data/exp2"]
    assert_one_line_error(gone, 4)


async def test_a_file_is_deleted_without_asking(local_scientist: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    assert_ok(await local_scientist.run("upload", str(tmp_path / "a.txt"), "data/", "-q"))

    deleted = assert_ok(await local_scientist.run("rm", "data/a.txt"))
    listed = assert_ok(await local_scientist.run("ls", "data", "--json"))

    assert deleted.lines == ["deleted data/a.txt"]
    assert json.loads(listed.stdout) == []


async def test_errors_print_the_detail_in_one_line_and_exit_with_their_code(
    local_scientist: Cli, tmp_path: Path
) -> None:
    missing_remote = await local_scientist.run("download", "data/nothing.tif", str(tmp_path))
    top_folder = await local_scientist.run("mv", "data", "config/data")
    wrong_folder = await local_scientist.run("upload", str(tmp_path), "output/")
    missing_local = await local_scientist.run("upload", str(tmp_path / "nope"), "data/")

    assert "404" in assert_one_line_error(missing_remote, 4)
    assert assert_one_line_error(top_folder, 5).startswith("error: 405: ")
    assert "config/, data/ or artifact/" in assert_one_line_error(wrong_folder, 2)
    assert (
        assert_one_line_error(missing_local, 2)
        == f"error: no such file or folder: {tmp_path / 'nope'}"
    )


async def test_a_service_that_does_not_answer_or_a_missing_login_is_one_line(
    local_scientist: Cli, local_deployment: Deployment
) -> None:
    store = local_scientist.store()
    credentials = store.get(local_deployment.service.url)
    assert credentials is not None
    dead = f"http://127.0.0.1:{free_port()}"
    store.save(replace(credentials, url=dead), make_default=False)

    unreachable = await local_scientist.run("ls", "--url", dead)
    not_logged_in = await local_scientist.run("ls", "--url", "http://127.0.0.1:1")

    assert f"cannot reach {dead}" in assert_one_line_error(unreachable, 7)
    assert assert_one_line_error(not_logged_in, 3) == (
        "error: not logged in to http://127.0.0.1:1; run `decode-cloud login`"
    )
