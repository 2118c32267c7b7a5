"""Progress of transfers: silent by default, rich's bars (bytes, speed, ETA) on a terminal.

rich is imported only when bars are shown: it is a good part of the start-up time of
a command, which scripts and small transfers pay on every run.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


class Transfer:
    """One file moving; `advance` with the bytes moved since the last call."""

    def advance(self, size: int) -> None:
        """Nothing to show by default."""

    def finish(self) -> None:
        """Nothing to show by default."""


class Reporter:
    """Silent progress: what the Python API uses unless given a `RichReporter`."""

    def transfer(self, label: str, total: int | None, completed: int = 0) -> Transfer:
        return Transfer()

    def start(self) -> None:
        """Nothing to show by default."""

    def stop(self) -> None:
        """Nothing to show by default."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


class _RichTransfer(Transfer):
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, size: int) -> None:
        self._progress.advance(self._task, size)

    def finish(self) -> None:
        self._progress.remove_task(self._task)


class RichReporter(Reporter):
    """A bar per file on standard error, with bytes, speed and time left."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )

    def transfer(self, label: str, total: int | None, completed: int = 0) -> Transfer:
        task = self._progress.add_task(label, total=total, completed=completed)
        return _RichTransfer(self._progress, task)

    def start(self) -> None:
        self._progress.start()

    def stop(self) -> None:
        self._progress.stop()
