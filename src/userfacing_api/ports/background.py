"""Running work apart from the request that asked for it."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol


class BackgroundWork(Protocol):
    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` on its own and return at once; its failures never reach the caller."""
        ...
