"""Peak resident memory of the server process during one scenario."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil

SAMPLE_INTERVAL = 0.02
CHILDREN_EVERY = 50
"""Samples between two look-ups of the process's children."""


class RssSampler:
    """Sample the RSS of a process every ~20 ms from the moment the block is entered.

    A thread rather than an event-loop task: while the load generator saturates
    the loop, a task would be starved and miss the peak it is meant to catch.

    The process's children are looked up once a second, not at every sample:
    finding them reads every process of the machine (about 2 ms here), and at
    every sample that took a tenth of a core from a machine the service shares,
    during the service's runs only, not the floor's.
    """

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._children: list[psutil.Process] = []
        self._samples = 0
        self.baseline = 0
        self.peak = 0

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.baseline)

    def __enter__(self) -> RssSampler:
        self.baseline = self._rss()
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            self._sample()

    def _sample(self) -> None:
        try:
            self.peak = max(self.peak, self._rss())
        except psutil.Error:
            self._stop.set()

    def _rss(self) -> int:
        """Of the process and of its children (the server's processes with `WORKERS` > 1)."""
        if self._samples % CHILDREN_EVERY == 0:
            self._children = self._process.children(recursive=True)
        self._samples += 1
        rss: int = self._process.memory_info().rss
        for child in self._children:
            try:
                rss += child.memory_info().rss
            except psutil.Error:
                continue
        return rss
