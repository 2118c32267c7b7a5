"""Command line: `userfacing-api serve | migrate | check-config`."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import socket
import sys
from collections.abc import Mapping

from dotenv import dotenv_values

from userfacing_api.adapters.http.access_log import RequestIdAccessLogger
from userfacing_api.adapters.http.server import EXIT_CLEAN, ServerOptions, exit_now
from userfacing_api.adapters.http.server import serve as serve_app
from userfacing_api.settings import Settings, SettingsError, load_settings
from userfacing_api.settings_report import settings_lines


def read_environment(dotenv_path: str = ".env") -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    values = {key: value for key, value in dotenv_values(dotenv_path).items() if value is not None}
    values.update(os.environ)
    return values


def _settings(environ: Mapping[str, str]) -> Settings:
    try:
        return load_settings(environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def serve(settings: Settings) -> None:
    """Serve in this process (`WORKERS=1`) or in `WORKERS` processes sharing the port."""
    if settings.server.workers == 1:
        serve_one(settings)
        return
    from userfacing_api.bootstrap import migrate
    from userfacing_api.workers import serve_in_processes

    # Once, before the processes start, so that they do not all wait on the migration lock.
    asyncio.run(migrate(settings))
    raise SystemExit(serve_in_processes(settings, settings.server.workers, _serve_worker))


def serve_one(settings: Settings, *, reuse_port: bool = False) -> None:
    from userfacing_api.bootstrap import create_app

    options = ServerOptions(
        host=settings.server.host,
        port=settings.server.port,
        shutdown_grace=settings.server.shutdown_grace,
        header_timeout=settings.server.header_read_timeout,
        body_idle_timeout=settings.server.body_idle_timeout,
    )
    listening = listening_socket(options.host, options.port, reuse_port=reuse_port)
    asyncio.run(serve_app(create_app(settings), options, RequestIdAccessLogger, listening))
    # Everything is closed: nothing is left for the interpreter's own teardown to do.
    exit_now(EXIT_CLEAN)


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The bound socket to serve on, taken before anything starts; with `reuse_port`
    shared with the other processes of `WORKERS` (`SO_REUSEPORT`).

    A port that is taken stops the process with one line naming `HOST:PORT`,
    before the database or any other resource is opened.
    """
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listening = socket.socket(family, kind, protocol)
    except OSError as err:
        raise SettingsError("HOST", f"cannot listen on {host}:{port}: {_reason(err)}") from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listening.bind(address)
    except OSError as err:
        listening.close()
        raise SettingsError("PORT", f"cannot listen on {host}:{port}: {_reason(err)}") from None
    return listening


def _reason(err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return "the address is already in use (is another instance running?)"
    return err.strerror or str(err)


def _serve_worker(settings: Settings) -> None:
    """One of several processes: the same service, the port shared through `SO_REUSEPORT`."""
    os.setpgrp()
    _configure_logging(settings.server.log_level)
    serve_one(settings, reuse_port=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="userfacing-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="start the HTTP service")
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser(
        "check-config", help="validate the configuration, print it (secrets masked) and exit"
    )
    arguments = parser.parse_args(argv)
    settings = _settings(read_environment())
    _configure_logging(settings.server.log_level)
    try:
        if arguments.command == "serve":
            serve(settings)
        elif arguments.command == "migrate":
            from userfacing_api.bootstrap import migrate

            asyncio.run(migrate(settings))
            logging.getLogger("userfacing_api").info("database schema is up to date")
        else:
            print("\n".join(settings_lines(settings)))
            print("configuration is valid")
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
