"""Helpers shared by the adapters that call other services over HTTP.

What they produce ends up in logs and in error details, so every text passes
through `redact` with the credentials of the call and is cut to a short length.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

MAX_ERROR_BODY_BYTES = 64 * 1024
MAX_DETAIL_CHARS = 500
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def shorten(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def read_error_body(response: aiohttp.ClientResponse) -> str:
    """The start of an error answer as text, without reading an unbounded body."""
    data = bytearray()
    while len(data) < MAX_ERROR_BODY_BYTES:
        chunk = await response.content.read(MAX_ERROR_BODY_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    try:
        return bytes(data).decode(response.charset or "utf-8", errors="replace")
    except LookupError:
        return bytes(data).decode("utf-8", errors="replace")


def describe_failure(err: BaseException) -> str:
    """A one-line reason for a failed call, naming no header or credential."""
    if isinstance(err, TimeoutError):
        return "no answer in time"
    if isinstance(err, aiohttp.ClientConnectorError):
        reason = err.os_error.strerror or type(err.os_error).__name__
        return f"cannot connect to {err.host}:{err.port} ({reason})"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
