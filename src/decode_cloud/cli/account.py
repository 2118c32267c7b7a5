"""`login`, `logout`, `whoami`."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from decode_cloud.cli.output import note, print_json, say
from decode_cloud.errors import LocalPathError

if TYPE_CHECKING:
    from decode_cloud.aio import AsyncClient


def _username(args: argparse.Namespace) -> str:
    if args.username:
        return str(args.username)
    if args.password_stdin:
        raise LocalPathError("--password-stdin needs --username")
    print("username (e-mail): ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip()


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("password: ")


async def login(args: argparse.Namespace, client: AsyncClient) -> int:
    username = _username(args)
    password = _password(args)
    provider = await client.login(username, password, args.provider)
    say(f"logged in to {client.url} as {username} ({provider} identity)")
    return 0


async def logout(args: argparse.Namespace, client: AsyncClient) -> int:
    if client.logout():
        say(f"logged out of {client.url}")
    else:
        note(f"was not logged in to {client.url}")
    return 0


async def whoami(args: argparse.Namespace, client: AsyncClient) -> int:
    user = await client.whoami()
    if args.json:
        print_json({"url": client.url, **user})
        return 0
    groups = ", ".join(user.get("groups") or []) or "none"
    say(f"{user.get('email')} at {client.url} (groups: {groups})")
    return 0
