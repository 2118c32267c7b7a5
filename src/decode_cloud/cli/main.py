"""`decode-cloud`: parse, run one command on an event loop, turn failures into exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from decode_cloud.cli.output import note
from decode_cloud.cli.parser import build_parser
from decode_cloud.errors import EXIT_INTERRUPTED, EXIT_USAGE, DecodeCloudError
from decode_cloud.progress import Reporter, RichReporter

PURE_PYTHON_HTTP = "AIOHTTP_NO_EXTENSIONS"
"""What aiohttp reads once, when it is imported, to use its HTTP parser written in Python."""


def load_network_stack() -> None:
    """Import aiohttp with its HTTP parser written in Python instead of the one in C.

    A command's work is moving bodies, and the C parser copies each piece of a body it
    receives into a new bytes object; the Python parser hands on the bytes the socket
    gave. `decode-cloud download` is bound by the CPU of its own process, and without
    that copy it moves a file about a fifth faster. Headers are parsed once per
    request, where the two parsers differ by microseconds. aiohttp reads the setting
    once, when it is imported, and it is taken back at once: nothing the command starts
    inherits it, and an aiohttp already imported (a program that calls `main`) keeps
    its parser.
    """
    if "aiohttp" in sys.modules:
        return
    before = os.environ.get(PURE_PYTHON_HTTP)
    os.environ[PURE_PYTHON_HTTP] = "1"
    try:
        import aiohttp  # noqa: F401  (imported for its effect: the parser it picks)
    finally:
        if before is None:
            del os.environ[PURE_PYTHON_HTTP]
        else:
            os.environ[PURE_PYTHON_HTTP] = before


async def _run(args: argparse.Namespace) -> int:
    # Imported here, not above: aiohttp is most of the start-up time, and `--help`
    # or a mistyped argument needs none of it.
    from decode_cloud.aio import AsyncClient

    show_bars = not args.quiet and sys.stderr.isatty()
    with RichReporter() if show_bars else Reporter() as reporter:
        async with AsyncClient(args.url, reporter=reporter) as client:
            code: int = await args.handler(args, client)
            return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        getattr(args, "command_parser", parser).print_help(sys.stderr)
        return EXIT_USAGE
    args.url = getattr(args, "url", None)
    args.quiet = getattr(args, "quiet", False)
    load_network_stack()
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        note("interrupted: run the same command again to resume")
        return EXIT_INTERRUPTED
    except DecodeCloudError as err:
        note(f"error: {err}")
        return err.exit_code
