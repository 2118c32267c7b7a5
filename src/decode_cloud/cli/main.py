"""`decode-cloud`: parse, run one command on an event loop, turn failures into exit codes."""

from __future__ import annotations

import argparse
import asyncio
import sys

from decode_cloud.cli.output import note
from decode_cloud.cli.parser import build_parser
from decode_cloud.errors import EXIT_INTERRUPTED, EXIT_USAGE, DecodeCloudError
from decode_cloud.progress import Reporter, RichReporter


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
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        note("interrupted: run the same command again to resume")
        return EXIT_INTERRUPTED
    except DecodeCloudError as err:
        note(f"error: {err}")
        return err.exit_code
