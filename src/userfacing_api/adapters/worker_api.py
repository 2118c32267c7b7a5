"""The worker-facing API as the queue that accepted jobs are handed to.

Answers are sorted by whether retrying can help: a 4xx (other than 408 and 429)
means the worker side judged the job itself and is final (`DeliveryRejected`),
except 409, which says it already holds a job with this id (an earlier attempt
that got through: delivered). Refused connections and 5xx, 408, 429 answers are
`DeliveryUnavailable`. A request that went out and got no answer — the read
time-out ran out or the connection dropped — is `DeliveryOutcomeUnknown`: the
worker side may well have queued the job.

Connecting and reading have separate time-outs: connecting is quick or fails,
while a busy worker side may take long to answer a job it does accept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from userfacing_api.adapters.outbound_http import (
    describe_failure,
    read_error_body,
    redact,
    shorten,
)
from userfacing_api.ports.worker_queue import (
    DeliveryOutcomeUnknown,
    DeliveryRejected,
    DeliveryUnavailable,
)

logger = logging.getLogger(__name__)

_TRANSIENT_CLIENT_ERRORS = frozenset({408, 429})
_ALREADY_HELD = 409
# Failures that happen before any byte of the request can have reached the worker side.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


@asynccontextmanager
async def open_worker_api_session(
    connect_timeout: float, read_timeout: float
) -> AsyncIterator[aiohttp.ClientSession]:
    """One client session for the whole process, closed on exit."""
    timeout = aiohttp.ClientTimeout(
        total=None, connect=connect_timeout, sock_connect=connect_timeout, sock_read=read_timeout
    )
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session


class WorkerApiQueue:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str | None) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/_jobs"
        self._api_key = api_key

    async def enqueue(self, payload: Mapping[str, Any]) -> None:
        headers = {} if self._api_key is None else {"x-api-key": self._api_key}
        try:
            async with self._session.post(
                self._url, json=dict(payload), headers=headers, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return
                detail = self._redact(_detail_of(await read_error_body(response)))
                status = response.status
        except _NOT_SENT as err:
            reason = self._redact(describe_failure(err))
            logger.warning("worker API unreachable at %s: %s", self._url, reason)
            raise DeliveryUnavailable(f"worker API unreachable: {reason}") from err
        except (TimeoutError, aiohttp.ClientError) as err:
            reason = self._redact(describe_failure(err))
            logger.warning("worker API gave no answer at %s: %s", self._url, reason)
            raise DeliveryOutcomeUnknown(f"worker API gave no answer: {reason}") from err
        if status == _ALREADY_HELD:
            logger.info("worker API already holds the job: %s", detail)
            return
        if 400 <= status < 500 and status not in _TRANSIENT_CLIENT_ERRORS:
            logger.warning("worker API rejected a job with %d: %s", status, detail)
            raise DeliveryRejected(f"worker API rejected the job ({status}): {detail}")
        logger.warning("worker API answered %d: %s", status, detail)
        raise DeliveryUnavailable(f"worker API answered {status}: {detail}")

    def _redact(self, text: str) -> str:
        return redact(text, [self._api_key])


def _detail_of(body: str) -> str:
    """The `detail` of a JSON error answer (serialised if structured), else the text."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return shorten(body) or "no detail given"
    if isinstance(parsed, dict) and "detail" in parsed:
        detail = parsed["detail"]
        return shorten(detail if isinstance(detail, str) else json.dumps(detail))
    return shorten(body)
