"""Verifying Cognito-shaped RS256 id tokens against a set of public keys (JWKS).

The same verifier serves Cognito and the local provider: only the key source
differs. The algorithm is pinned to RS256 before any key is looked up, which
rules out `alg=none` and HS256 tokens "signed" with the public key as secret.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from jose import jwt
from jose.exceptions import JOSEError

from userfacing_api.domain.errors import Unauthenticated
from userfacing_api.domain.identity import Principal
from userfacing_api.ports.clock import Clock

ALGORITHM = "RS256"
VERIFIED_CACHE_SIZE = 4096
CLOCK_SKEW_SECONDS = 60
"""How far in the future `iat` or `nbf` may lie: clocks of issuer and service may differ."""

_INVALID = "Invalid token"
_EXPIRED = "Token expired"
_NOT_YET_VALID = "Token not yet valid"

# Expiry is checked against the Clock port instead (jose would read the system
# clock, and its `require_exp` would switch its own check back on).
_JOSE_OPTIONS = {
    "verify_exp": False,
    "verify_nbf": False,
    "require_iat": True,
    "require_aud": True,
    "require_iss": True,
    "verify_at_hash": False,
}


class JwksSource(Protocol):
    async def key_for(self, kid: str) -> Mapping[str, Any] | None:
        """The public JWK with this key id, or None if there is none."""
        ...


class StaticJwksSource:
    """A fixed set of public JWKs, keyed by their `kid`."""

    def __init__(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        self._keys = dict(keys)

    async def key_for(self, kid: str) -> Mapping[str, Any] | None:
        return self._keys.get(kid)


class JwksTokenVerifier:
    def __init__(
        self,
        source: JwksSource,
        issuer: str,
        audience: str,
        clock: Clock,
        leeway_seconds: int = 0,
    ) -> None:
        self._source = source
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._leeway = leeway_seconds
        # Each verified token with the window of its validity, in seconds since the epoch.
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The caller of `token`.

        A token whose signature and claims were verified before is answered from
        a bounded cache (the RSA check dominates the cost of small requests);
        its expiry is still checked against the clock on every use.
        """
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_from, valid_until = cached
            self._verified.move_to_end(token)
            self._check_window(valid_from, valid_until)
            return principal
        principal, valid_from, valid_until = await self._verify_uncached(token)
        self._verified[token] = (principal, valid_from, valid_until)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _verify_uncached(self, token: str) -> tuple[Principal, float, float]:
        key = await self._key_of(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                dict(key),
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options=dict(_JOSE_OPTIONS),
            )
        except (JOSEError, ValueError, TypeError, KeyError) as err:
            raise Unauthenticated(_INVALID) from err
        valid_from, valid_until = self._window(claims)
        self._check_window(valid_from, valid_until)
        if claims.get("token_use") != "id":
            raise Unauthenticated(_INVALID)
        return _principal(claims), valid_from, valid_until

    async def _key_of(self, token: str) -> Mapping[str, Any]:
        try:
            header: dict[str, Any] = jwt.get_unverified_header(token)
        except (JOSEError, ValueError, TypeError, AttributeError) as err:
            raise Unauthenticated(_INVALID) from err
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise Unauthenticated(_INVALID)
        key = await self._source.key_for(kid)
        if key is None or key.get("kty") != "RSA":
            raise Unauthenticated(_INVALID)
        return key

    def _window(self, claims: Mapping[str, Any]) -> tuple[float, float]:
        """From when and until when (in seconds since the epoch) the token is valid.

        `iat` and `nbf` may lie up to `CLOCK_SKEW_SECONDS` ahead: clocks of issuer and
        service may differ. A token whose `iat` or `nbf` is no number is never valid.
        """
        expires = _seconds(claims.get("exp"))
        if expires is None:
            raise Unauthenticated(_INVALID)
        valid_from = -math.inf
        for name in ("nbf", "iat"):
            if name in claims:
                not_before = _seconds(claims[name])
                start = math.inf if not_before is None else not_before - CLOCK_SKEW_SECONDS
                valid_from = max(valid_from, start)
        return valid_from, expires + self._leeway

    def _check_window(self, valid_from: float, valid_until: float) -> None:
        now = self._clock.now().timestamp()
        if now >= valid_until:
            raise Unauthenticated(_EXPIRED)
        if now < valid_from:
            raise Unauthenticated(_NOT_YET_VALID)


def _seconds(value: object) -> float | None:
    """A numeric date claim as a number, or None if it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _principal(claims: Mapping[str, Any]) -> Principal:
    user_id = claims.get("cognito:username")
    email = claims.get("email")
    groups = claims.get("cognito:groups")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthenticated(_INVALID)
    if email is not None and not isinstance(email, str):
        raise Unauthenticated(_INVALID)
    if groups is not None and (
        not isinstance(groups, list) or not all(isinstance(group, str) for group in groups)
    ):
        raise Unauthenticated(_INVALID)
    return Principal(
        user_id=user_id,
        email=email,
        groups=None if groups is None else tuple(groups),
    )
