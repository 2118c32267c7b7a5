"""`ls`, `upload`, `download`, `mv`, `rm`, `mkdir`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from decode_cloud.cli.output import note, print_downloads, print_entries, print_json, say
from decode_cloud.errors import EXIT_USAGE

if TYPE_CHECKING:
    from decode_cloud.aio import AsyncClient
    from decode_cloud.uploads import Uploaded


async def ls(args: argparse.Namespace, client: AsyncClient) -> int:
    entries = await client.ls(args.path, recursive=args.recursive)
    if args.json:
        print_json([entry.raw for entry in entries])
    else:
        print_entries(entries)
    return 0


async def upload(args: argparse.Namespace, client: AsyncClient) -> int:
    outcome = await client.upload(
        args.sources,
        args.remote_dir,
        skip_existing=args.skip_existing,
        parallel=args.parallel,
        single_request=args.single_request,
    )
    if not args.quiet:
        for item in outcome.skipped:
            say(f"already there: {item.remote} ({item.size} bytes)")
        for done in outcome.uploaded:
            say(f"uploaded: {done.item.local} -> {done.entry.path} ({_sent(done)})")
    total = sum(done.item.size for done in outcome.uploaded)
    skipped = f"; {len(outcome.skipped)} already there" if outcome.skipped else ""
    say(f"{len(outcome.uploaded)} file(s), {total} bytes uploaded{skipped}")
    return 0


def _sent(done: Uploaded) -> str:
    if done.resumed is None:
        return f"{done.item.size} bytes"
    already, count = done.resumed
    return f"{done.item.size} bytes, resumed with {already} of {count} parts already sent"


async def download(args: argparse.Namespace, client: AsyncClient) -> int:
    results = await client.download(args.remote, args.local, as_zip=args.zip)
    print_downloads(results, args.quiet)
    return 0


async def mv(args: argparse.Namespace, client: AsyncClient) -> int:
    entry = await client.mv(args.source, args.target)
    say(f"renamed {args.source} -> {entry.path}")
    return 0


def _confirmed(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


async def rm(args: argparse.Namespace, client: AsyncClient) -> int:
    if (
        not args.yes
        and await client.is_folder(args.path)
        and not _confirmed(f"delete the folder {args.path} and everything in it?")
    ):
        note("nothing deleted")
        return EXIT_USAGE
    await client.rm(args.path)
    say(f"deleted {args.path}")
    return 0


async def mkdir(args: argparse.Namespace, client: AsyncClient) -> int:
    await client.mkdir(args.path)
    say(f"created {args.path.rstrip('/')}/")
    return 0
