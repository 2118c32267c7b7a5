"""The failure shared by every port the service's database serves."""

from __future__ import annotations

from userfacing_api.domain.errors import Unavailable


class DatabaseUnavailable(Unavailable):
    """The database failed or cannot be reached."""
