"""The catalogue read from a YAML file, re-read when the file changes."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Hashable
from pathlib import Path

import pytest

from tests.fixed_clock import Ticks
from tests.waiting import eventually
from userfacing_api.adapters.catalogue.reloading import Document, ReloadingCatalogue
from userfacing_api.adapters.catalogue.yaml_file import YamlFileCatalogue
from userfacing_api.domain.applications import InvalidCatalogue
from userfacing_api.ports.catalogue import CatalogueUnreadable

VALID = """
app:
  v1:
    run:
      app: {cmd: [run], env: [SEED]}
      handler:
        image_url: registry/app:1
        files_down: {config_id: config, data_ids: data, artifact_ids: artifact}
        files_up: {output: out}
"""


class GatedSource:
    """A catalogue source in memory whose checks wait until `gate` is set."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.gate = asyncio.Event()
        self.gate.set()
        self.checks = 0

    @property
    def name(self) -> str:
        return "memory"

    async def version(self) -> Hashable:
        self.checks += 1
        snapshot = self.text
        await self.gate.wait()
        return snapshot

    async def read(self) -> Document:
        return Document(text=self.text, version=self.text)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "application_config.yaml"
    path.write_text(VALID)
    return path


def rewrite(path: Path, text: str) -> None:
    """Change the file so that its modification time differs for sure."""
    stat = path.stat()
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


async def test_the_reference_catalogue_loads(reference_catalogue: Path) -> None:
    catalogue = await (await YamlFileCatalogue.load(reference_catalogue)).current()
    assert set(catalogue.document) == {"decode", "comet"}


async def test_an_invalid_file_at_start_names_the_key_at_fault(path: Path) -> None:
    rewrite(path, VALID.replace("image_url: registry/app:1", "image_urll: registry/app:1"))
    with pytest.raises(InvalidCatalogue, match=r"^app\.v1\.run\.handler\.image_url: required$"):
        await YamlFileCatalogue.load(path)


async def test_a_missing_file_at_start_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(CatalogueUnreadable, match="No such file"):
        await YamlFileCatalogue.load(tmp_path / "nope.yaml")


async def test_malformed_yaml_is_unreadable_with_its_line(path: Path) -> None:
    rewrite(path, "app:\n  v1: [unclosed\n")
    with pytest.raises(CatalogueUnreadable, match=r"not valid YAML: .*line 3"):
        await YamlFileCatalogue.load(path)


async def test_a_changed_file_is_seen_by_the_next_request(path: Path, ticks: Ticks) -> None:
    catalogue = await YamlFileCatalogue.load(path, monotonic=ticks)
    rewrite(path, VALID.replace("app:\n", "renamed:\n", 1))

    assert set((await catalogue.current()).document) == {"renamed"}


async def test_requests_during_a_check_wait_for_one_that_began_after_them() -> None:
    """A request arriving while an older check runs must not take that check's answer."""
    source = GatedSource(VALID)
    catalogue = await ReloadingCatalogue.from_source(source)
    source.gate.clear()
    early = asyncio.create_task(catalogue.current())
    await eventually(lambda: source.checks == 1)
    source.text = VALID.replace("app:\n", "edited:\n", 1)
    late = asyncio.create_task(catalogue.current())
    source.gate.set()

    assert set((await early).document) == {"app"}
    assert set((await late).document) == {"edited"}


async def test_a_changed_file_is_read_again_after_the_optional_check_interval(
    path: Path, ticks: Ticks
) -> None:
    catalogue = await YamlFileCatalogue.load(path, check_interval=1.0, monotonic=ticks)
    rewrite(path, VALID.replace("app:\n", "renamed:\n", 1))

    ticks.now += 0.5
    before_interval = await catalogue.current()
    ticks.now += 0.5
    after_interval = await catalogue.current()

    assert set(before_interval.document) == {"app"}
    assert set(after_interval.document) == {"renamed"}


async def test_an_unchanged_file_is_not_read_again(path: Path, ticks: Ticks) -> None:
    catalogue = await YamlFileCatalogue.load(path, monotonic=ticks)
    first = await catalogue.current()

    ticks.now += 5
    assert await catalogue.current() is first


async def test_an_invalid_file_at_reload_keeps_the_last_good_catalogue(
    path: Path, ticks: Ticks, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue = await YamlFileCatalogue.load(path, monotonic=ticks)
    good = await catalogue.current()
    rewrite(path, VALID.replace("cmd: [run]", "cmd: run"))

    ticks.now += 1
    with caplog.at_level(logging.ERROR):
        kept = await catalogue.current()

    assert kept is good
    assert "app.v1.run.app.cmd: must be a list of strings" in caplog.text


async def test_a_deleted_file_keeps_the_last_good_catalogue_until_it_returns(
    path: Path, ticks: Ticks, tmp_path: Path
) -> None:
    catalogue = await YamlFileCatalogue.load(path, monotonic=ticks)
    good = await catalogue.current()
    shutil.move(path, tmp_path / "aside.yaml")

    ticks.now += 1
    assert await catalogue.current() is good
    (tmp_path / "aside.yaml").write_text(VALID.replace("app:\n", "back:\n", 1))
    shutil.move(tmp_path / "aside.yaml", path)
    ticks.now += 1
    assert set((await catalogue.current()).document) == {"back"}
