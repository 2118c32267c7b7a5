"""The few calls of the HTTP contract the benchmark makes, on one shared session."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.payload import AsyncIterablePayload

from bench.units import MIB

CONNECTIONS = 64
READ_CHUNK = MIB
USERNAME = "bench@example.org"
PASSWORD = "Bench-run-passw0rd!"


class UnexpectedAnswer(RuntimeError):
    """A set-up request (not a measured one) failed; the benchmark cannot go on."""


def open_session(clients: int) -> aiohttp.ClientSession:
    """One session for the whole run; its pool holds a connection for every load client."""
    connections = max(CONNECTIONS, clients)
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def pattern_chunks(size: int, block: bytes) -> AsyncIterator[bytes]:
    """`size` bytes made of `block` repeated: incompressible-looking yet free to produce."""
    view = memoryview(block)
    remaining = size
    while remaining > 0:
        step = min(remaining, len(view))
        yield bytes(view[:step]) if step < len(view) else block
        remaining -= step


def random_block(size: int = MIB) -> bytes:
    return os.urandom(size)


async def _check(response: aiohttp.ClientResponse, expected: int, what: str) -> Any:
    if response.status != expected:
        body = await response.text()
        raise UnexpectedAnswer(f"{what}: HTTP {response.status}, expected {expected}: {body[:300]}")
    return await response.json()


@dataclass(frozen=True)
class Api:
    session: aiohttp.ClientSession
    base_url: str
    token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def signed_in(self) -> Api:
        """Create the benchmark user (AUTH=1 endpoints) and return an API holding its token."""
        form = {"username": USERNAME, "password": PASSWORD}
        async with self.session.post(self.url("/user"), data=form) as response:
            await _check(response, 201, "POST /user")
        async with self.session.post(self.url("/token"), data=form) as response:
            answer = await _check(response, 201, "POST /token")
        return Api(self.session, self.base_url, str(answer["id_token"]))

    async def upload(self, folder: str, filename: str, chunks: AsyncIterator[bytes]) -> int:
        """POST one file into `folder` (e.g. `data/x`) as a streamed multipart body."""
        with aiohttp.MultipartWriter("form-data") as form:
            part = form.append_payload(AsyncIterablePayload(chunks))
            part.set_content_disposition("form-data", name="file", filename=filename)
            async with self.session.post(
                self.url(f"/files/{folder}/upload"), data=form, headers=self.auth
            ) as response:
                await _check(response, 201, f"upload {folder}/{filename}")
                return response.status

    async def upload_in_session(
        self, path: str, size: int, block: bytes, parallelism: int
    ) -> tuple[int, int]:
        """Send a file through an upload session, `parallelism` parts at a time.

        Returns the number of parts and the size the completed file reports.
        """
        session = await self.json("POST", "/uploads", 201, json={"path": path, "size": size})
        upload_id, part_size = session["upload_id"], session["part_size"]
        numbers = iter(range(1, session["part_count"] + 1))

        async def sender() -> None:
            for number in numbers:
                request = await self.json("POST", f"/uploads/{upload_id}/parts/{number}", 200)
                length = min(part_size, size - (number - 1) * part_size)
                async with self.session.request(
                    request["method"],
                    request["url"],
                    headers={**request["headers"], "Content-Length": str(length)},
                    data=AsyncIterablePayload(pattern_chunks(length, block)),
                ) as response:
                    if response.status // 100 != 2:
                        raise UnexpectedAnswer(f"part {number}: HTTP {response.status}")

        await asyncio.gather(*(sender() for _ in range(parallelism)))
        info = await self.json("POST", f"/uploads/{upload_id}/complete", 201)
        return session["part_count"], int(info["size_bytes"])

    async def download(self, path: str) -> int:
        """GET `/files/{path}/download`, discard the bytes, return how many came."""
        received = 0
        async with self.session.get(
            self.url(f"/files/{path}/download"), headers=self.auth
        ) as response:
            if response.status != 200:
                raise UnexpectedAnswer(f"download {path}: HTTP {response.status}")
            async for chunk in response.content.iter_chunked(READ_CHUNK):
                received += len(chunk)
        return received

    async def status_of(self, method: str, path: str, **kwargs: Any) -> int:
        """Send a measured request, read the whole body, return the status."""
        headers = kwargs.pop("headers", self.auth)
        async with self.session.request(
            method, self.url(path), headers=headers, **kwargs
        ) as response:
            await response.read()
            return response.status

    async def json(self, method: str, path: str, expected: int, **kwargs: Any) -> Any:
        async with self.session.request(
            method, self.url(path), headers=self.auth, **kwargs
        ) as response:
            return await _check(response, expected, f"{method} {path}")
