"""One engine's database and the stores it serves: jobs with their outbox, local users,
signing keys.

The stores are written once, over a `Session`; an engine contributes only how it
runs statements and transactions, and its `Dialect`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager

from userfacing_api.adapters.db.identity_store import SqlSigningKeyStore, SqlUserStore
from userfacing_api.adapters.db.job_store import SqlJobStore
from userfacing_api.adapters.db.session import Dialect, Session
from userfacing_api.ports.local_identity import SigningKeyStore, UserStore


class Database(ABC):
    def __init__(self, session: Session, dialect: Dialect, reads: Session | None = None) -> None:
        """`reads`, when given, serves the job reads that need no transaction (an
        engine's separate reading connection); otherwise `session` does."""
        self.session = session
        """Statements outside any transaction, each committed on its own."""
        self.jobs = SqlJobStore(self.transaction, reads or session, dialect)
        self.users: UserStore = SqlUserStore(session, dialect)
        self.signing_keys: SigningKeyStore = SqlSigningKeyStore(session)

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """Statements on one connection, committed when the block ends and rolled back
        when it raises; failures come out as the `Session`'s do."""
