"""What can go wrong talking to the service, and the exit code each failure gives the CLI."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_SERVER_ERROR = 1
"""The service failed (5xx) or answered something this client does not understand."""
EXIT_USAGE = 2
"""Wrong arguments, or a local file or folder that cannot be read or written."""
EXIT_AUTH = 3
"""Not logged in, the login was refused or expired (401), or the account lacks access (403)."""
EXIT_NOT_FOUND = 4
"""The file, folder or job does not exist (404)."""
EXIT_REFUSED = 5
"""The service refused the request (any other 4xx: invalid, conflict, too large, …)."""
EXIT_JOB_FAILED = 6
"""A watched job ended in `error` or `cancelled`."""
EXIT_UNREACHABLE = 7
"""The service (or Cognito) could not be reached."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C; running the same command again resumes transfers."""


class DecodeCloudError(Exception):
    """Base of every error of this package; `str()` is one line meant for the user."""

    exit_code = EXIT_SERVER_ERROR


class ApiError(DecodeCloudError):
    """The service answered with an error status; `detail` is its `{"detail": ...}`."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        self.exit_code = _exit_code_of(status)
        super().__init__(f"{status}: {render_detail(detail)}")


class NotLoggedIn(DecodeCloudError):
    exit_code = EXIT_AUTH


class LoginFailed(DecodeCloudError):
    exit_code = EXIT_AUTH


class Unreachable(DecodeCloudError):
    exit_code = EXIT_UNREACHABLE


class LocalPathError(DecodeCloudError):
    """A local file or folder that cannot be used as asked."""

    exit_code = EXIT_USAGE


class JobFailed(DecodeCloudError):
    exit_code = EXIT_JOB_FAILED


def _exit_code_of(status: int) -> int:
    if status in (401, 403):
        return EXIT_AUTH
    if status == 404:
        return EXIT_NOT_FOUND
    if 400 <= status < 500:
        return EXIT_REFUSED
    return EXIT_SERVER_ERROR


def render_detail(detail: Any) -> str:
    """The service's `detail` on one line; 422 lists become `loc: msg; loc: msg`."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                location = ".".join(str(step) for step in item.get("loc", []))
                parts.append(f"{location}: {item.get('msg', '')}" if location else item.get("msg"))
            else:
                parts.append(str(item))
        return "; ".join(str(part) for part in parts)
    return " ".join(str(detail).split())
