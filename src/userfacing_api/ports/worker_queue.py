"""Handing accepted jobs to the worker-facing API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from userfacing_api.domain.errors import DomainError


class DeliveryRejected(DomainError):
    """The worker side refused the job as invalid (a 4xx): retrying cannot help."""


class DeliveryUnavailable(DomainError):
    """The worker side could not be reached or failed (5xx, time-out): retry later."""


class DeliveryOutcomeUnknown(DeliveryUnavailable):
    """The job was sent but no answer came (read time-out, dropped connection).

    The worker side may have queued it, so it must not be sent again at once.
    """


class WorkerQueue(Protocol):
    async def enqueue(self, payload: Mapping[str, Any]) -> None:
        """Send one job payload (the contract's `POST /_jobs` body).

        Returns once the worker side has accepted it (or says it already holds
        it); raises `DeliveryRejected`, `DeliveryOutcomeUnknown` when the request
        went out but no answer came, or `DeliveryUnavailable` otherwise.
        """
        ...
