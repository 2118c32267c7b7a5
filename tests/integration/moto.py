"""A moto server on the loopback interface standing in for AWS during the tests.

The aio AWS clients cannot use moto's in-process mock, so moto runs as a real
HTTP server in a thread, and the standard AWS variables point every client the
code under test creates at it, with dummy credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

MOTO_REGION = "us-east-1"
"""The default region of the clients; tests may create resources in others."""
MOTO_ACCESS_KEY_ID = "moto-access-key"
MOTO_SECRET_ACCESS_KEY = "moto-secret-key"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The base URL of a moto server that lives as long as the test session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith("AWS_"):
                    patch.delenv(name)
            patch.setenv("AWS_ENDPOINT_URL", url)
            patch.setenv("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY_ID)
            patch.setenv("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_ACCESS_KEY)
            patch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
            # A developer's own AWS configuration must not redirect or re-sign requests.
            patch.setenv("AWS_CONFIG_FILE", os.devnull)
            patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
            yield url
    finally:
        server.stop()
