"""Access log lines carrying the request id."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from userfacing_api.adapters.http.app_keys import REQUEST_ID


class RequestIdAccessLogger(AbstractAccessLogger):
    @property
    def enabled(self) -> bool:
        """False when INFO lines are not written: the line is then never put together."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1fms rid=%s",
            request.remote,
            request.method,
            request.rel_url.raw_path,
            response.status,
            time * 1000,
            request.get(REQUEST_ID, "-"),
        )
