"""Reading a Server-Sent Events stream in tests, one message at a time."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.waiting import WAIT_SECONDS

EVENT_STREAM = {"Accept": "text/event-stream"}


@dataclass
class Message:
    """An event (`id`, `event`, `data`) or a comment (`comment`)."""

    fields: dict[str, str] = field(default_factory=dict)
    comment: str | None = None

    @property
    def data(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.fields["data"])
        return document


async def next_message(response: aiohttp.ClientResponse, within: float = WAIT_SECONDS) -> Message:
    """The next message of the stream; fails the test if none comes within `within` s."""
    message = Message()
    async with asyncio.timeout(within):
        while True:
            raw = await response.content.readline()
            if not raw:
                raise AssertionError(f"the stream ended; so far: {message}")
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                return Message(comment=line[1:].strip())
            if not line:
                if message.fields:
                    return message
                continue
            name, _, value = line.partition(":")
            message.fields[name] = value.removeprefix(" ")


async def next_event(response: aiohttp.ClientResponse) -> Message:
    """The next event, skipping heartbeat comments."""
    while True:
        message = await next_message(response)
        if message.comment is None:
            return message


async def ended(response: aiohttp.ClientResponse) -> bool:
    """Whether the server closed the stream (no more messages, comments aside)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            raw = await response.content.readline()
            if not raw:
                return True
            if not raw.startswith(b":") and raw.strip():
                return False
