"""Requests that clients send to this API itself where a storage has no direct access."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from userfacing_api.adapters.http.middleware import bearer_token
from userfacing_api.domain.files import FileRequest


def through_this_api(request: web.Request, method: str, own_url: URL) -> FileRequest:
    """A request to this API itself, carrying the caller's credentials."""
    authorization = request.headers.get("Authorization") or f"Bearer {bearer_token(request)}"
    return FileRequest(
        method=method,
        url=str(request.url.join(own_url)),
        headers={"authorization": authorization},
        data={},
    )
