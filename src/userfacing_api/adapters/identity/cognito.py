"""Amazon Cognito: id tokens checked against the pool's keys, users managed with admin calls.

Verification needs no AWS credentials (the keys are public). User management
(`POST /user`, `/token`, `/login`, only with AUTH=1) talks to the Cognito API
through aioboto3 with the usual AWS credential chain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from userfacing_api.adapters.identity.cognito_jwks import CognitoJwksSource
from userfacing_api.adapters.identity.jwt import JwksTokenVerifier
from userfacing_api.domain.errors import (
    AlreadyExists,
    BadRequest,
    DomainError,
    NotFound,
    Unavailable,
    UpstreamRejected,
)
from userfacing_api.domain.identity import IssuedToken, Principal
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.identity import IdentityProvider, TokenVerifier

logger = logging.getLogger("userfacing_api.identity")

JWKS_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
COGNITO_CONFIG = AioConfig(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)

_WRONG_CREDENTIALS = "Incorrect username or password"
_BUSY_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "InternalErrorException"}
)


@dataclass(frozen=True)
class CognitoPool:
    """Where the user pool is, and the app client the service acts as."""

    pool_id: str
    client_id: str
    region: str
    jwks_url: str
    issuer: str
    client_secret: str | None = field(default=None, repr=False)


@asynccontextmanager
async def open_cognito_identity(
    pool: CognitoPool, clock: Clock
) -> AsyncIterator[tuple[TokenVerifier, IdentityProvider]]:
    """The verifier and user manager of the pool, open for the context's lifetime."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=JWKS_TIMEOUT))
        cognito = await stack.enter_async_context(
            aioboto3.Session().client("cognito-idp", region_name=pool.region, config=COGNITO_CONFIG)
        )
        verifier = JwksTokenVerifier(
            CognitoJwksSource(pool.jwks_url, http, clock),
            issuer=pool.issuer,
            audience=pool.client_id,
            clock=clock,
        )
        provider = CognitoIdentityProvider(
            cognito, pool.pool_id, pool.client_id, pool.client_secret
        )
        yield verifier, provider


def secret_hash(client_secret: str, client_id: str, username: str) -> str:
    """The SECRET_HASH Cognito demands from app clients that have a secret."""
    digest = hmac.new(
        client_secret.encode("utf-8"), (username + client_id).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


class CognitoIdentityProvider:
    """Creates confirmed users with a permanent password and logs them in by password."""

    def __init__(
        self, client: Any, pool_id: str, client_id: str, client_secret: str | None
    ) -> None:
        self._client = client
        self._pool_id = pool_id
        self._client_id = client_id
        self._client_secret = client_secret

    async def register(self, username: str, password: str, groups: Sequence[str]) -> Principal:
        unique_groups = tuple(dict.fromkeys(groups))
        user_id = await self._create_user(username)
        try:
            with _cognito_errors():
                await self._client.admin_set_user_password(
                    UserPoolId=self._pool_id, Username=user_id, Password=password, Permanent=True
                )
            for group in unique_groups:
                await self._add_to_group(user_id, group)
        except Exception:
            await self._delete_half_created(user_id)
            raise
        return Principal(user_id=user_id, email=username, groups=unique_groups)

    async def issue_token(self, username: str, password: str) -> IssuedToken:
        parameters = {"USERNAME": username, "PASSWORD": password}
        if self._client_secret:
            parameters["SECRET_HASH"] = secret_hash(self._client_secret, self._client_id, username)
        with _cognito_errors():
            response = await self._client.initiate_auth(
                ClientId=self._client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
            )
        result = response.get("AuthenticationResult")
        if not result:
            challenge = response.get("ChallengeName") or "unknown"
            raise BadRequest(
                f"Cannot log in here: the user must first answer the {challenge} challenge"
            )
        return IssuedToken(id_token=result["IdToken"], expires_in=int(result["ExpiresIn"]))

    async def _create_user(self, username: str) -> str:
        """Create the user without sending any message; return Cognito's name for them."""
        with _cognito_errors():
            response = await self._client.admin_create_user(
                UserPoolId=self._pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": username},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        return str(response["User"]["Username"])

    async def _add_to_group(self, user_id: str, group: str) -> None:
        """Add the user to `group`, creating the group if the pool lacks it."""
        try:
            await self._client.admin_add_user_to_group(
                UserPoolId=self._pool_id, Username=user_id, GroupName=group
            )
            return
        except ClientError as err:
            if _code(err) != "ResourceNotFoundException":
                raise _domain_error(err) from err
        except BotoCoreError as err:
            raise _unreachable(err) from err
        await self._create_group(group)
        with _cognito_errors():
            await self._client.admin_add_user_to_group(
                UserPoolId=self._pool_id, Username=user_id, GroupName=group
            )

    async def _create_group(self, group: str) -> None:
        try:
            await self._client.create_group(UserPoolId=self._pool_id, GroupName=group)
        except ClientError as err:
            if _code(err) != "GroupExistsException":
                raise _domain_error(err) from err
        except BotoCoreError as err:
            raise _unreachable(err) from err
        else:
            logger.info("created the missing Cognito group %r", group)

    async def _delete_half_created(self, user_id: str) -> None:
        """Undo a registration that failed after the user was created."""
        try:
            await self._client.admin_delete_user(UserPoolId=self._pool_id, Username=user_id)
        except (ClientError, BotoCoreError) as err:
            logger.error("could not remove the half-registered Cognito user %r: %s", user_id, err)


@contextmanager
def _cognito_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as err:
        raise _domain_error(err) from err
    except BotoCoreError as err:
        raise _unreachable(err) from err


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _domain_error(err: ClientError) -> DomainError:
    code = _code(err)
    message = str(err.response.get("Error", {}).get("Message") or "").strip()
    if code == "UsernameExistsException":
        return AlreadyExists("User already exists")
    if code == "InvalidPasswordException":
        return BadRequest(f"Password rejected: {message}" if message else "Password rejected")
    if code == "UserNotFoundException":
        return NotFound("User not found")
    if code == "NotAuthorizedException":
        return BadRequest(_WRONG_CREDENTIALS)
    if code in ("UserNotConfirmedException", "PasswordResetRequiredException"):
        return BadRequest("The user cannot log in with a password yet")
    if code == "InvalidParameterException":
        return BadRequest(f"Rejected by the identity provider: {message}" if message else code)
    if code in _BUSY_CODES:
        return Unavailable("The identity provider is busy, try again later")
    logger.error("Cognito refused a request: %s", code)
    return UpstreamRejected("The identity provider refused the request")


def _unreachable(err: BotoCoreError) -> Unavailable:
    logger.error("Cognito cannot be reached: %s", type(err).__name__)
    return Unavailable("The identity provider cannot be reached")
