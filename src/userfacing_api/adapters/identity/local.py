"""The local identity provider: users and signing key in the service's own database.

It stands in for Cognito in development and test deployments. Its tokens look
like Cognito id tokens and are checked by the same `JwksTokenVerifier`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from functools import partial

from userfacing_api.adapters.clock import SystemClock
from userfacing_api.adapters.identity.id_tokens import IdTokenSigner
from userfacing_api.adapters.identity.jwt import JwksTokenVerifier, StaticJwksSource
from userfacing_api.adapters.identity.passwords import (
    check_password_policy,
    hash_password,
    verify_password,
)
from userfacing_api.adapters.identity.signing_key import ensure_signing_key
from userfacing_api.domain.errors import BadRequest, NotFound
from userfacing_api.domain.identity import IssuedToken, Principal
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.identity import TokenVerifier
from userfacing_api.ports.local_identity import SigningKeyStore, StoredUser, UserStore

DEFAULT_AUDIENCE = "userfacing-api-local"


class LocalIdentityProvider:
    def __init__(self, users: UserStore, signer: IdTokenSigner, clock: Clock) -> None:
        self._users = users
        self._signer = signer
        self._clock = clock

    async def register(self, username: str, password: str, groups: Sequence[str]) -> Principal:
        """Create a user whose id is a fresh UUID (like a Cognito `sub`) and e-mail the username."""
        check_password_policy(password)
        user = StoredUser(
            user_id=str(uuid.uuid4()),
            username=username,
            email=username,
            groups=tuple(dict.fromkeys(groups)),
            password_hash=await hash_password(password),
            created_at=self._clock.now(),
        )
        await self._users.add(user)
        return Principal(user_id=user.user_id, email=user.email, groups=user.groups)

    async def issue_token(self, username: str, password: str) -> IssuedToken:
        user = await self._users.find(username)
        if user is None:
            raise NotFound("User does not exist")
        if not await verify_password(password, user.password_hash):
            raise BadRequest("Incorrect username or password")
        return self._signer.sign(user, self._clock.now())


async def open_local_identity(
    users: UserStore,
    keys: SigningKeyStore,
    *,
    issuer: str,
    audience: str,
    token_lifetime: int,
    clock: Clock | None = None,
) -> tuple[TokenVerifier, LocalIdentityProvider]:
    """The verifier and provider of local users, creating the signing key on first start."""
    clock = clock or SystemClock()
    key = await ensure_signing_key(keys, clock)
    signer = await asyncio.get_running_loop().run_in_executor(
        None, partial(IdTokenSigner, key, issuer, audience, token_lifetime)
    )
    verifier = JwksTokenVerifier(
        StaticJwksSource({signer.kid: signer.public_jwk}), issuer, audience, clock
    )
    return verifier, LocalIdentityProvider(users, signer, clock)
