"""Conditional GET (RFC 9110 section 13): `If-None-Match`, `If-Modified-Since`, `If-Range`.

Validators come from the file's metadata: the storage's entity tag, or one made
of size and modification time, and the modification time to the second. JSON
answers (jobs) carry an entity tag made from their body (a listing: from its jobs' tags).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

from userfacing_api.adapters.http.responses import json_bytes_response
from userfacing_api.domain.files import FileInfo

_ENTITY_TAG = re.compile(r'(W/)?"[^"]*"')


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: datetime | None


def validators_of(info: FileInfo) -> Validators:
    modified = info.modified
    if modified is not None:
        modified = modified.astimezone(UTC) if modified.tzinfo else modified.replace(tzinfo=UTC)
    etag = info.etag
    if etag is None and modified is not None and info.size is not None:
        etag = f"{info.size:x}-{int(modified.timestamp() * 1_000_000):x}"
    if etag is not None and not _ENTITY_TAG.fullmatch(etag):
        etag = '"' + etag.replace('"', "") + '"'
    return Validators(etag=etag, last_modified=modified)


def is_not_modified(headers: Mapping[str, str], validators: Validators) -> bool:
    """True when the client's copy is current, so 304 is the answer to a GET."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        if validators.etag is None:
            return False
        ours = _opaque(validators.etag)
        tags = (match.group(0) for match in _ENTITY_TAG.finditer(if_none_match))
        return any(_opaque(tag) == ours for tag in tags)
    since = _http_date(headers.get("If-Modified-Since"))
    if since is None or validators.last_modified is None:
        return False
    return _seconds(validators.last_modified) <= _seconds(since)


def range_applies(headers: Mapping[str, str], validators: Validators) -> bool:
    """False when `If-Range` names another version, so the whole file must be sent."""
    if_range = headers.get("If-Range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        etag = validators.etag
        return etag is not None and not etag.startswith("W/") and if_range == etag
    date = _http_date(if_range)
    if date is None or validators.last_modified is None:
        return False
    return _seconds(validators.last_modified) == _seconds(date)


def entity_tag(body: bytes) -> str:
    """The strong entity tag of a JSON answer: a hash of its bytes."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def json_bytes_with_etag(request: web.Request, body: bytes, etag: str) -> web.Response:
    """JSON `body`, already encoded, with its entity tag `etag`; 304 when the client has it.

    Only `If-None-Match` can match: the answer has no modification date.
    """
    if "If-None-Match" in request.headers and is_not_modified(
        request.headers, Validators(etag=etag, last_modified=None)
    ):
        return web.Response(status=304, headers={"ETag": etag})
    return json_bytes_response(body, headers={"ETag": etag})


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())
