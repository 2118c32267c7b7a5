"""What `make serve` and `make test` install into a fresh checkout (dry runs: nothing is run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned_commands(target: str, checkout: Path) -> list[str]:
    """The commands `make <target>` would run in `checkout`."""
    finished = subprocess.run(
        ["make", "-n", target],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return finished.stdout.splitlines()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files the two commands start from, without a `.venv`."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    return tmp_path


def installs(commands: list[str]) -> list[str]:
    return [
        command
        for command in commands
        if "pip install" in command and "--upgrade pip" not in command
    ]


def test_make_serve_installs_only_what_serving_needs(checkout: Path) -> None:
    commands = planned_commands("serve", checkout)

    assert installs(commands) == [".venv/bin/pip install --quiet -e ."]
    assert any("userfacing-api serve" in command for command in commands)


def test_make_test_installs_the_dev_tools(checkout: Path) -> None:
    commands = planned_commands("test", checkout)

    assert installs(commands) == [".venv/bin/pip install --quiet -e '.[dev]'"]
