"""Benchmark suite of the user-facing API: `python -m bench` (see `--help`).

The service runs as a separate process on loopback; this package drives it with
an aiohttp client, samples the server's memory, and prints and saves a report.
"""
