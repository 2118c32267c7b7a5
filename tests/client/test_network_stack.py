"""The command line loads aiohttp with the HTTP parser that hands on received bytes uncopied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from decode_cloud.cli.main import PURE_PYTHON_HTTP

REPORT = (
    "import os\n"
    "import aiohttp.client_proto as proto\n"
    "import aiohttp.http_parser as parsers\n"
    "print(proto.HttpResponseParser is parsers.HttpResponseParserPy,"
    f" os.environ.get({PURE_PYTHON_HTTP!r}))\n"
)


def _probe(code: str, tmp_path: Path, **environ: str) -> str:
    inherited = {name: value for name, value in os.environ.items() if name != PURE_PYTHON_HTTP}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**inherited, **environ},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_commands_parse_responses_in_python_and_leave_the_environment_as_it_was(
    tmp_path: Path,
) -> None:
    code = "from decode_cloud.cli.main import load_network_stack\nload_network_stack()\n"

    assert _probe(code + REPORT, tmp_path) == "True None"
    assert _probe(code + REPORT, tmp_path, **{PURE_PYTHON_HTTP: "yes"}) == "True yes"


def test_an_aiohttp_already_imported_keeps_its_parser(tmp_path: Path) -> None:
    """A program that imported aiohttp before calling `main` keeps the C parser."""
    code = (
        "import aiohttp\n"
        "from decode_cloud.cli.main import load_network_stack\n"
        "load_network_stack()\n"
    )

    assert _probe(code + REPORT, tmp_path) == "False None"
