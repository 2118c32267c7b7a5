"""Id tokens cached per service URL in the user's configuration folder, readable by them only.

The file is `<config dir>/decode-cloud/credentials.json` (on Linux `~/.config/...`, or
under `$XDG_CONFIG_HOME`), with mode 0600.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from decode_cloud.json_files import read_json_object, write_json_object

APP_NAME = "decode-cloud"
FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class CognitoPool:
    user_pool_id: str
    client_id: str
    region: str


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str
    id_token: str
    expires_at: float
    """Epoch seconds after which the id token is no longer accepted."""
    refresh_token: str | None = None
    """Cognito only: renews the id token without the password."""
    cognito: CognitoPool | None = None

    @property
    def provider(self) -> str:
        return "local" if self.cognito is None else "cognito"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credentials:
        pool = data.get("cognito")
        return cls(
            url=str(data["url"]),
            username=str(data["username"]),
            id_token=str(data["id_token"]),
            expires_at=float(data["expires_at"]),
            refresh_token=data.get("refresh_token"),
            cognito=CognitoPool(**pool) if pool else None,
        )


def normalise_url(url: str) -> str:
    return url.strip().rstrip("/")


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


class CredentialStore:
    """Credentials of every service the user logged in to, and which one is the default."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = (folder or config_dir()) / FILE_NAME

    def _read(self) -> dict[str, Any]:
        data = read_json_object(self.path)
        if not isinstance(data.get("servers"), dict):
            return {"default": None, "servers": {}}
        return data

    def default_url(self) -> str | None:
        default = self._read().get("default")
        return str(default) if default else None

    def get(self, url: str) -> Credentials | None:
        entry = self._read()["servers"].get(normalise_url(url))
        if not isinstance(entry, dict):
            return None
        try:
            return Credentials.from_json(entry)
        except (KeyError, TypeError, ValueError):
            return None

    def save(self, credentials: Credentials, make_default: bool = True) -> None:
        data = self._read()
        data["servers"][credentials.url] = credentials.to_json()
        if make_default:
            data["default"] = credentials.url
        write_json_object(self.path, data)

    def remove(self, url: str) -> bool:
        """Forget the login at `url`; False when there was none."""
        data = self._read()
        url = normalise_url(url)
        if data["servers"].pop(url, None) is None:
            return False
        if data.get("default") == url:
            data["default"] = next(iter(data["servers"]), None)
        write_json_object(self.path, data)
        return True
