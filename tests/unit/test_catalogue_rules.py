"""The application catalogue: checked when loaded, naming the key at fault."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from userfacing_api.domain.applications import InvalidCatalogue, parse_catalogue
from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.jobs import ApplicationRef


def entry() -> dict[str, Any]:
    return {
        "app": {"cmd": ["run", "--fast"], "env": ["SEED"]},
        "handler": {
            "image_url": "registry/app:1",
            "files_down": {"config_id": "config", "data_ids": "data", "artifact_ids": "artifact"},
            "files_up": {"output": "out", "log": "log"},
        },
        "aws_resources": {"hardware": {"VCPU": 4}},
    }


def document(**changes: Any) -> dict[str, Any]:
    """A one-entry catalogue `app.v1.run`; `changes` map dotted keys below it to new values."""
    run = entry()
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = run
        for name in parents:
            target = target[name]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return {"app": {"v1": {"run": run}}}


_DELETE = object()


def test_the_reference_catalogue_is_valid(reference_catalogue: Path) -> None:
    catalogue = parse_catalogue(yaml.safe_load(reference_catalogue.read_text()))
    train = catalogue.entrypoint(ApplicationRef("decode", "v0_10_1", "train"))
    assert train.image_url == "public.ecr.aws/w2b7b8c0/decode-cloud/decode:v0_10_1"
    assert train.cmd[0] == "/docker/entrypoint.sh"
    assert train.env == ()
    assert dict(train.files_down) == {
        "config_id": "config",
        "data_ids": "data",
        "artifact_ids": "artifact",
    }
    assert dict(train.files_up) == {"log": "log", "artifact": "model"}


def test_the_document_is_kept_as_configured() -> None:
    source = document()
    assert parse_catalogue(copy.deepcopy(source)).document == source


def test_env_may_be_left_out() -> None:
    catalogue = parse_catalogue(document(**{"app.env": _DELETE}))
    assert catalogue.entrypoint(ApplicationRef("app", "v1", "run")).env == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"handler.image_url": _DELETE}, "app.v1.run.handler.image_url: required"),
        ({"handler.image_url": None}, "app.v1.run.handler.image_url: required"),
        ({"handler.image_url": 3}, "app.v1.run.handler.image_url: must be a non-empty string"),
        ({"app": _DELETE}, "app.v1.run.app: required"),
        ({"app.cmd": "run"}, "app.v1.run.app.cmd: must be a list of strings"),
        ({"app.env": [1]}, "app.v1.run.app.env: must be a list of strings"),
        ({"handler": ["x"]}, "app.v1.run.handler: must be a mapping"),
        (
            {"handler.files_down.data_ids": _DELETE},
            "app.v1.run.handler.files_down.data_ids: required",
        ),
        (
            {"handler.files_down.model_ids": "m"},
            "app.v1.run.handler.files_down.model_ids: unknown key",
        ),
        ({"handler.files_up.results": "r"}, "app.v1.run.handler.files_up.results: unknown key"),
        (
            {"handler.files_up.log": ""},
            "app.v1.run.handler.files_up.log: must be a non-empty string",
        ),
        ({"aws_resources": "big"}, "app.v1.run.aws_resources: must be a mapping"),
    ],
)
def test_a_faulty_entry_is_reported_with_its_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidCatalogue) as raised:
        parse_catalogue(document(**changes))
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "(catalogue): must be a mapping"),
        (["app"], "(catalogue): must be a mapping"),
        ({"app": ["v1"]}, "app: must be a mapping"),
        ({"app": {"v1": None}}, "app.v1: must be a mapping"),
        ({"app": {1.1: {}}}, "app.1.1: key must be a string"),
    ],
)
def test_a_faulty_structure_is_reported_with_its_key(source: object, message: str) -> None:
    with pytest.raises(InvalidCatalogue) as raised:
        parse_catalogue(source)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (ApplicationRef("nope", "v1", "run"), "Unknown application 'nope'; available: app"),
        (ApplicationRef("app", "v9", "run"), "Unknown version 'v9' of 'app'; available: v1"),
        (
            ApplicationRef("app", "v1", "fit"),
            "Unknown entrypoint 'fit' of 'app' 'v1'; available: run",
        ),
    ],
)
def test_an_unknown_entrypoint_is_invalid_input_naming_what_exists(
    ref: ApplicationRef, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_catalogue(document()).entrypoint(ref)


def test_only_the_entrypoints_env_vars_are_allowed() -> None:
    run = parse_catalogue(document()).entrypoint(ApplicationRef("app", "v1", "run"))
    run.check_env_vars({"SEED": "1"})
    with pytest.raises(InvalidInput, match="not allowed: PATH \\(allowed: SEED\\)"):
        run.check_env_vars({"SEED": "1", "PATH": "/tmp"})
