"""The local provider's RSA signing key, generated once and kept in `signing_keys`.

Keeping it in the database lets tokens survive restarts and lets several
instances sharing one database verify each other's tokens. The key lives under
one fixed key id: whoever inserts first wins, and everyone reads back the row
that won, so instances racing at start-up still end up with the same key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from userfacing_api.ports.clock import Clock
from userfacing_api.ports.local_identity import SigningKeyStore

LOCAL_KID = "userfacing-local-1"

_KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


async def ensure_signing_key(keys: SigningKeyStore, clock: Clock) -> SigningKey:
    """The persisted signing key, created on first use."""
    stored = await keys.find(LOCAL_KID)
    if stored is None:
        pem = await asyncio.get_running_loop().run_in_executor(None, generate_private_pem)
        await keys.add_if_absent(LOCAL_KID, pem, clock.now())
        stored = await keys.find(LOCAL_KID)
    if stored is None:
        raise RuntimeError("the signing key vanished right after it was stored")
    return SigningKey(LOCAL_KID, stored)


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
