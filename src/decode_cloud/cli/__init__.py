"""The `decode-cloud` command, built on the Python API."""

from decode_cloud.cli.main import main

__all__ = ["main"]
