"""E-mail notices through the Mailjet Send API v3.1.

A notice is a courtesy: a job's outcome does not depend on it, so nothing here
raises. Throttling (429), server errors and network failures are retried with
exponential back-off (or the server's `Retry-After`); anything else is logged
once and dropped.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import aiohttp

from userfacing_api.adapters.job_notice_email import PRODUCT, compose_notice
from userfacing_api.adapters.outbound_http import (
    describe_failure,
    read_error_body,
    redact,
    shorten,
)
from userfacing_api.ports.notifier import JobEndedNotice

logger = logging.getLogger(__name__)

# A server asking for a longer pause than this is not waited for beyond it.
MAX_RETRY_AFTER_SECONDS = 60.0


class MailjetNotifier:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        secret_key: str,
        sender: str,
        base_url: str = "https://api.mailjet.com",
        frontend_url: str | None = None,
        max_attempts: int = 4,
        backoff_seconds: float = 1.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._session = session
        self._headers = {"Authorization": _basic_authorization(api_key, secret_key)}
        self._secrets = (api_key, secret_key)
        self._sender = sender
        self._url = f"{base_url.rstrip('/')}/v3.1/send"
        self._frontend_url = frontend_url
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds

    async def job_ended(self, notice: JobEndedNotice) -> None:
        try:
            await self._send(notice)
        except Exception:
            logger.exception("e-mail notice for job %d failed unexpectedly", notice.job_id)

    async def _send(self, notice: JobEndedNotice) -> None:
        body = self._body(notice)
        for attempt in range(1, self._max_attempts + 1):
            delay = self._backoff_seconds * 2 ** (attempt - 1)
            try:
                async with self._session.post(
                    self._url, json=body, headers=self._headers, allow_redirects=False
                ) as response:
                    if 200 <= response.status < 300:
                        logger.info("e-mail notice for job %d sent", notice.job_id)
                        return
                    reason = f"answered {response.status}: {await self._error_text(response)}"
                    if response.status != 429 and response.status < 500:
                        logger.warning(
                            "e-mail notice for job %d dropped: Mailjet %s", notice.job_id, reason
                        )
                        return
                    delay = _retry_after(response.headers.get("Retry-After"), delay)
            except (TimeoutError, aiohttp.ClientError) as err:
                reason = redact(describe_failure(err), self._secrets)
            if attempt < self._max_attempts:
                logger.warning(
                    "e-mail notice for job %d: Mailjet %s; attempt %d of %d, retrying in %.3g s",
                    notice.job_id,
                    reason,
                    attempt,
                    self._max_attempts,
                    delay,
                )
                await asyncio.sleep(delay)
        logger.warning(
            "e-mail notice for job %d dropped after %d attempts: Mailjet %s",
            notice.job_id,
            self._max_attempts,
            reason,
        )

    def _body(self, notice: JobEndedNotice) -> dict[str, Any]:
        message = compose_notice(notice, self._frontend_url)
        return {
            "Messages": [
                {
                    "From": {"Email": self._sender, "Name": PRODUCT},
                    "To": [{"Email": notice.recipient}],
                    "Subject": message.subject,
                    "TextPart": message.text,
                    "HTMLPart": message.html,
                }
            ]
        }

    async def _error_text(self, response: aiohttp.ClientResponse) -> str:
        return shorten(redact(await read_error_body(response), self._secrets))


def _basic_authorization(login: str, password: str) -> str:
    """The `Authorization` value of HTTP basic auth (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def _retry_after(header: str | None, default: float) -> float:
    """The pause a `Retry-After: <seconds>` header asks for, capped; else `default`."""
    value = (header or "").strip()
    return min(float(value), MAX_RETRY_AFTER_SECONDS) if value.isdigit() else default
