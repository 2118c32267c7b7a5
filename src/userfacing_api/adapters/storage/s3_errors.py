"""Translation of S3 client failures into the storage port's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from userfacing_api.domain.errors import NotFound
from userfacing_api.ports.storage import StorageUnavailable

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def is_missing(err: ClientError) -> bool:
    return error_code(err) in MISSING_CODES


@contextmanager
def s3_errors(path: str) -> Iterator[None]:
    """Turn a missing object into `NotFound` and any other failure into `StorageUnavailable`."""
    try:
        yield
    except ClientError as err:
        if is_missing(err):
            raise NotFound(f"{path!r} does not exist") from err
        raise StorageUnavailable("The file storage refused the request") from err
    except (TimeoutError, BotoCoreError, aiohttp.ClientError) as err:
        raise StorageUnavailable("The file storage cannot be reached") from err
