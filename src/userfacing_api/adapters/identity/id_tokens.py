"""Signing id tokens shaped like Cognito's, so one verifier serves both providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jose import jwk, jwt

from userfacing_api.adapters.identity.jwt import ALGORITHM
from userfacing_api.adapters.identity.signing_key import SigningKey
from userfacing_api.domain.identity import IssuedToken
from userfacing_api.ports.local_identity import StoredUser


class IdTokenSigner:
    """Signs RS256 id tokens with the persisted key.

    Building one parses the private key, which costs CPU: do it off the event loop.
    """

    def __init__(self, key: SigningKey, issuer: str, audience: str, lifetime_seconds: int) -> None:
        self.kid = key.kid
        self._private_key = jwk.construct(key.private_pem, ALGORITHM)
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime_seconds
        public: dict[str, Any] = self._private_key.public_key().to_dict()
        self.public_jwk: dict[str, Any] = {**public, "kid": key.kid, "use": "sig"}

    def sign(self, user: StoredUser, issued_at: datetime) -> IssuedToken:
        now = int(issued_at.timestamp())
        claims: dict[str, Any] = {
            "sub": user.user_id,
            "cognito:username": user.user_id,
            "email": user.email,
            "token_use": "id",
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "auth_time": now,
            "exp": now + self._lifetime,
        }
        if user.groups:
            # Cognito leaves the claim out for a user in no group.
            claims["cognito:groups"] = list(user.groups)
        token: str = jwt.encode(
            claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid}
        )
        return IssuedToken(id_token=token, expires_in=self._lifetime)
