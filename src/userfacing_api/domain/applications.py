"""The application catalogue: which application / version / entrypoint can run, and how.

The catalogue is a document `{application: {version: {entrypoint: {...}}}}`.
`parse_catalogue` checks every entry when it is loaded, so a mistake is reported
once, naming the key at fault, instead of failing jobs later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.jobs import ApplicationRef

FILES_DOWN_KEYS: tuple[str, ...] = ("config_id", "data_ids", "artifact_ids")
FILES_UP_KEYS: tuple[str, ...] = ("output", "log", "artifact")


class InvalidCatalogue(ValueError):
    """The catalogue document breaks a rule; the message names the key at fault."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Entrypoint:
    """How to run one entrypoint: its command, allowed env vars and container layout."""

    cmd: tuple[str, ...]
    env: tuple[str, ...]
    image_url: str
    files_down: Mapping[str, str]
    """Container folder of each kind of input, keyed by `config_id`, `data_ids`, `artifact_ids`."""
    files_up: Mapping[str, str]

    def check_env_vars(self, env_vars: Mapping[str, str]) -> None:
        forbidden = sorted(key for key in env_vars if key not in self.env)
        if forbidden:
            allowed = ", ".join(self.env) or "none"
            raise InvalidInput(
                f"Environment variables not allowed: {', '.join(forbidden)} (allowed: {allowed})",
                ("attributes", "env_vars", forbidden[0]),
            )


@dataclass(frozen=True)
class Catalogue:
    entrypoints: Mapping[str, Mapping[str, Mapping[str, Entrypoint]]]
    document: Mapping[str, Any]
    """The catalogue as configured, shown to users as it is."""

    def entrypoint(self, ref: ApplicationRef) -> Entrypoint:
        """The entrypoint `ref` names, or `InvalidInput` naming what is unknown."""
        versions = self.entrypoints.get(ref.application)
        if versions is None:
            raise InvalidInput(
                f"Unknown application {ref.application!r}; available: {_names(self.entrypoints)}",
                ("application", "application"),
            )
        entrypoints = versions.get(ref.version)
        if entrypoints is None:
            raise InvalidInput(
                f"Unknown version {ref.version!r} of {ref.application!r}; "
                f"available: {_names(versions)}",
                ("application", "version"),
            )
        entrypoint = entrypoints.get(ref.entrypoint)
        if entrypoint is None:
            raise InvalidInput(
                f"Unknown entrypoint {ref.entrypoint!r} of {ref.application!r} {ref.version!r}; "
                f"available: {_names(entrypoints)}",
                ("application", "entrypoint"),
            )
        return entrypoint


def parse_catalogue(document: object) -> Catalogue:
    """Check a parsed catalogue document; raise `InvalidCatalogue` at the first fault."""
    applications = _mapping(document, "(catalogue)")
    entrypoints = {
        application: {
            version: {
                name: _entrypoint(entry, f"{application}.{version}.{name}")
                for name, entry in _mapping(version_entry, f"{application}.{version}").items()
            }
            for version, version_entry in _mapping(versions, application).items()
        }
        for application, versions in applications.items()
    }
    return Catalogue(entrypoints=entrypoints, document=applications)


def _entrypoint(entry: object, key: str) -> Entrypoint:
    fields = _mapping(entry, key)
    app = _mapping(_required(fields, "app", key), f"{key}.app")
    handler = _mapping(_required(fields, "handler", key), f"{key}.handler")
    if "aws_resources" in fields:
        _mapping(fields["aws_resources"], f"{key}.aws_resources")
    return Entrypoint(
        cmd=_strings(_required(app, "cmd", f"{key}.app"), f"{key}.app.cmd"),
        env=_strings(app.get("env", []), f"{key}.app.env"),
        image_url=_text(
            _required(handler, "image_url", f"{key}.handler"), f"{key}.handler.image_url"
        ),
        files_down=_folders(
            _required(handler, "files_down", f"{key}.handler"),
            f"{key}.handler.files_down",
            FILES_DOWN_KEYS,
            required=True,
        ),
        files_up=_folders(
            _required(handler, "files_up", f"{key}.handler"),
            f"{key}.handler.files_up",
            FILES_UP_KEYS,
            required=False,
        ),
    )


def _folders(
    value: object, key: str, accepted: tuple[str, ...], *, required: bool
) -> dict[str, str]:
    folders = _mapping(value, key)
    for name in folders:
        if name not in accepted:
            raise InvalidCatalogue(f"{key}.{name}", f"unknown key, accepted: {', '.join(accepted)}")
    if required:
        for name in accepted:
            _required(folders, name, key)
    return {name: _text(folder, f"{key}.{name}") for name, folder in folders.items()}


def _required(fields: Mapping[str, Any], name: str, key: str) -> object:
    if fields.get(name) is None:
        raise InvalidCatalogue(f"{key}.{name}", "required")
    return fields[name]


def _mapping(value: object, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidCatalogue(key, "must be a mapping")
    for name in value:
        if not isinstance(name, str):
            raise InvalidCatalogue(f"{key}.{name}", "key must be a string (quote it)")
    return dict(value)


def _text(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCatalogue(key, "must be a non-empty string")
    return value


def _strings(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidCatalogue(key, "must be a list of strings")
    return tuple(value)


def _names(entries: Mapping[str, object]) -> str:
    return ", ".join(sorted(entries)) or "none"
