"""The running service seen through a deployment of the original, which lacks the additions.

A streaming reverse proxy on 127.0.0.1 in front of the real service: every request
is passed through, except those of the endpoints the original does not have (upload
sessions, job events and cancelling), which get the 404 an aiohttp or FastAPI
service answers for an unknown route. The client must fall back to what it has.

`streams=False` makes it a proxy that does not pass event streams through: it asks the
service for JSON instead, so a request for a job's event stream gets its history.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.client.service import Service

MISSING = re.compile(r"^/(uploads(/.*)?|jobs/events|jobs/[^/]+/(events|cancel))$")
NOTHING_MISSING = re.compile(r"(?!)")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class OlderService(Service):
    refused: list[str] = field(default_factory=list)
    """`METHOD /path` of each request answered 404 for lack of the endpoint."""


@asynccontextmanager
async def older_service(
    service: Service, missing: re.Pattern[str] = MISSING, streams: bool = True
) -> AsyncIterator[OlderService]:
    """A `Service` whose URL is the proxy's, listing the requests it refused."""
    async with aiohttp.ClientSession(auto_decompress=False) as upstream:

        async def forward(request: web.Request) -> web.StreamResponse:
            if missing.match(request.path):
                refused.append(f"{request.method} {request.path}")
                return web.json_response({"detail": "Not Found"}, status=404)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
            if not streams and "text/event-stream" in headers.get("Accept", ""):
                headers["Accept"] = "application/json"
            async with upstream.request(
                request.method,
                service.url + request.path_qs,
                headers=headers,
                data=request.content.iter_chunked(CHUNK) if request.body_exists else None,
            ) as answer:
                response = web.StreamResponse(status=answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        response.headers[name] = value
                if answer.content_length is not None:
                    response.content_length = answer.content_length
                await response.prepare(request)
                async for chunk in answer.content.iter_chunked(CHUNK):
                    await response.write(chunk)
                await response.write_eof()
                return response

        refused: list[str] = []
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/{path:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield OlderService(f"http://127.0.0.1:{port}", service.folder, refused)
        finally:
            await runner.cleanup()
