"""Reading secrets from AWS Secrets Manager, once, at start-up.

Errors name the AWS error code, never a value.
"""

from __future__ import annotations

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

SECRETS_MANAGER_CONFIG = AioConfig(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)


class SecretUnreadable(Exception):
    """A secret cannot be read; the message says why without the secret or its value."""


class SecretsManagerResolver:
    """Reads secret strings, each from the region named in its ARN."""

    def __init__(self) -> None:
        self._session = aioboto3.Session()

    async def read(self, arn: str) -> str:
        """The secret's text as stored (empty when it has none)."""
        region = _region_of(arn)
        try:
            async with self._session.client(
                "secretsmanager", region_name=region, config=SECRETS_MANAGER_CONFIG
            ) as client:
                response = await client.get_secret_value(SecretId=arn)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "unknown error")
            raise SecretUnreadable(
                f"cannot read the secret from AWS Secrets Manager ({code})"
            ) from err
        except BotoCoreError as err:
            raise SecretUnreadable(
                f"cannot reach AWS Secrets Manager ({type(err).__name__})"
            ) from err
        return str(response.get("SecretString") or "")


def _region_of(arn: str) -> str:
    """`arn:aws:secretsmanager:<region>:<account>:secret:<name>` → region."""
    parts = arn.split(":")
    if len(parts) < 7 or not parts[3] or parts[5] != "secret":
        raise SecretUnreadable(
            "not a valid Secrets Manager ARN (arn:aws:secretsmanager:region:...)"
        )
    return parts[3]
