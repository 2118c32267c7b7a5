"""Several server processes on one port (`WORKERS=N`).

Each process is a whole service (its own event loop, database pool and
background work) listening on the same address with `SO_REUSEPORT`, so the
kernel spreads connections over them. This parent only starts them, forwards
SIGTERM and SIGINT (as SIGTERM, once), and stops the others as soon as one of
them ends. The processes leave the terminal's process group, so that Ctrl-C
reaches them only through this parent and only once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from userfacing_api.settings import Settings

STOP_SECONDS = 30.0


def serve_in_processes(settings: Settings, count: int, serve: Callable[[Settings], None]) -> int:
    """Run `serve(settings)` in `count` processes until they end.

    The exit code: 0 after a SIGTERM or SIGINT that every process obeyed (one
    still starting may die of the forwarded SIGTERM, with nothing in flight);
    otherwise that of the process whose end stopped the service.
    """
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(target=serve, args=(settings,), name=f"worker-{number}")
        for number in range(1, count + 1)
    ]

    stopping: list[bool] = []

    def stop_all() -> None:
        # Once: a second SIGTERM could reach a process after its handlers are gone.
        if not stopping:
            stopping.append(True)
            _signal_all(processes, signal.SIGTERM)

    def forward(signum: int, _: FrameType | None) -> None:
        stop_all()

    previous = {
        signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        for process in processes:
            process.start()
        ended = wait([process.sentinel for process in processes])
        told_to_stop = bool(stopping)
        first = next(process for process in processes if process.sentinel in ended)
        # One process ended (crashed, or was told to stop): the service stops as a whole.
        stop_all()
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not told_to_stop:
        return abs(first.exitcode or 0)
    obeyed = (0, -signal.SIGTERM)
    return max((abs(code) for p in processes if (code := p.exitcode or 0) not in obeyed), default=0)


def _signal_all(processes: list[BaseProcess], signum: signal.Signals) -> None:
    for process in processes:
        if process.pid is not None and process.exitcode is None:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signum)
