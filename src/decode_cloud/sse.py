"""Reading a Server-Sent Events stream from an aiohttp answer.

The few rules of the format that the job event stream uses: `id:`, `event:` and
`data:` fields, comment lines (keep-alives) starting with `:`, an empty line ending
each event. The caller owns reconnecting (with `Last-Event-ID`), so that it can fall
back to polling and stop after a terminal status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None


async def read_events(response: aiohttp.ClientResponse) -> AsyncIterator[ServerSentEvent]:
    event = "message"
    data: list[str] = []
    last_id: str | None = None
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(event, "\n".join(data), last_id)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
