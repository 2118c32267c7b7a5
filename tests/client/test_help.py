"""`decode-cloud --help` and every command's help."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from decode_cloud.cli import main
from tests.client.cli import Cli, assert_ok

COMMANDS = [
    ["login"],
    ["logout"],
    ["whoami"],
    ["ls"],
    ["upload"],
    ["download"],
    ["mv"],
    ["rm"],
    ["mkdir"],
    ["apps"],
    ["jobs"],
    ["jobs", "submit"],
    ["jobs", "ls"],
    ["jobs", "show"],
    ["jobs", "watch"],
    ["jobs", "cancel"],
    ["jobs", "rm"],
    ["jobs", "fetch"],
]


def help_of(command: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


async def test_the_console_script_prints_every_command_and_the_exit_codes(cli: Cli) -> None:
    finished = assert_ok(await cli.run("--help"))

    for command in COMMANDS:
        if len(command) == 1:
            assert f"    {command[0]} " in finished.stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "130 "):
        assert f"\n  {code}" in finished.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_command_explains_itself(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)

    assert text.startswith(f"usage: decode-cloud {' '.join(command)} ")
    assert "--url URL" in text
    assert "--quiet" in text
    description = text.split("\n\n")[1]
    assert description.strip().endswith(".")


def test_jobs_without_a_command_prints_its_help_and_exits_with_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["jobs"])

    assert code == 2
    assert "submit" in capsys.readouterr().err


async def test_help_and_argument_errors_do_not_load_the_network_stack(tmp_path: Path) -> None:
    """aiohttp is most of a command's start-up time; only commands that talk need it."""
    probe = (
        "import sys\n"
        "from decode_cloud.cli import main\n"
        "for argv in (['--help'], ['upload', '--help'], ['jobs', 'watch', 'x']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(name for name in ('aiohttp', 'rich', 'yaml') if name in sys.modules))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        probe,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    stdout, _ = await process.communicate()

    assert process.returncode == 0
    assert stdout.decode().splitlines()[-1] == "[]"
