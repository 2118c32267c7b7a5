"""The catalogue read from an S3 object on the moto server, re-read when the object changes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.fixed_clock import Ticks
from tests.integration.s3_support import raw_s3_client
from userfacing_api.adapters.catalogue.reloading import ReloadingCatalogue
from userfacing_api.adapters.catalogue.s3 import load_s3_catalogue
from userfacing_api.bootstrap import open_services
from userfacing_api.settings import CatalogueSettings, Settings, SettingsError

Client = TestClient[web.Request, web.Application]

KEY = "config/application_config.yaml"


@dataclass
class CountedClient:
    """An S3 client for the adapter, with the name of every operation it has sent."""

    client: Any
    operations: list[str] = field(default_factory=list)

    def count(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def adapter_client(moto_endpoint: str) -> AsyncIterator[CountedClient]:
    async with raw_s3_client() as client:
        counted = CountedClient(client)
        client.meta.events.register("before-call.s3", counted.count)
        yield counted


@pytest.fixture
def reference_text(reference_catalogue: Path) -> str:
    return reference_catalogue.read_text()


@pytest.fixture
async def uri(s3_client: Any, s3_bucket: str, reference_text: str) -> str:
    """The URI of the reference catalogue, put into a fresh bucket."""
    await s3_client.put_object(Bucket=s3_bucket, Key=KEY, Body=reference_text.encode())
    return f"s3://{s3_bucket}/{KEY}"


async def overwrite(s3_client: Any, uri: str, text: str) -> None:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    await s3_client.put_object(Bucket=bucket, Key=key, Body=text.encode())


async def loaded(adapter_client: CountedClient, uri: str, ticks: Ticks) -> ReloadingCatalogue:
    """The adapter on `uri`, with the operations of loading it forgotten."""
    catalogue = await load_s3_catalogue(adapter_client.client, uri, monotonic=ticks)
    adapter_client.operations.clear()
    return catalogue


async def test_the_reference_catalogue_loads_from_its_object(
    adapter_client: CountedClient, uri: str
) -> None:
    catalogue = await (await load_s3_catalogue(adapter_client.client, uri)).current()

    assert set(catalogue.document) == {"decode", "comet"}
    assert adapter_client.operations == ["GetObject", "HeadObject"]


async def test_a_changed_object_is_seen_by_the_next_request(
    adapter_client: CountedClient, s3_client: Any, uri: str, ticks: Ticks, reference_text: str
) -> None:
    catalogue = await loaded(adapter_client, uri, ticks)
    await overwrite(s3_client, uri, reference_text.replace("comet:", "renamed:", 1))

    changed = await catalogue.current()

    assert set(changed.document) == {"decode", "renamed"}
    assert adapter_client.operations == ["HeadObject", "GetObject"]


async def test_with_a_check_interval_a_change_is_seen_at_the_first_check_after_it(
    adapter_client: CountedClient, s3_client: Any, uri: str, ticks: Ticks, reference_text: str
) -> None:
    catalogue = await load_s3_catalogue(
        adapter_client.client, uri, check_interval=5.0, monotonic=ticks
    )
    adapter_client.operations.clear()
    await overwrite(s3_client, uri, reference_text.replace("comet:", "renamed:", 1))

    ticks.now += 4.9
    before_interval = await catalogue.current()
    requests_before_interval = list(adapter_client.operations)
    ticks.now += 0.1
    after_interval = await catalogue.current()

    assert set(before_interval.document) == {"decode", "comet"}
    assert requests_before_interval == []
    assert set(after_interval.document) == {"decode", "renamed"}
    assert adapter_client.operations == ["HeadObject", "GetObject"]


async def test_an_unchanged_object_is_only_checked_not_read_again(
    adapter_client: CountedClient, uri: str, ticks: Ticks
) -> None:
    catalogue = await loaded(adapter_client, uri, ticks)
    first = await catalogue.current()

    again = await catalogue.current()

    assert again is first
    assert adapter_client.operations == ["HeadObject", "HeadObject"]


async def test_an_invalid_object_at_reload_keeps_the_last_good_catalogue(
    adapter_client: CountedClient,
    s3_client: Any,
    uri: str,
    ticks: Ticks,
    reference_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalogue = await loaded(adapter_client, uri, ticks)
    good = await catalogue.current()
    await overwrite(s3_client, uri, reference_text.replace("image_url:", "image_link:", 1))

    with caplog.at_level(logging.ERROR):
        kept = await catalogue.current()
    await catalogue.current()

    assert kept is good
    assert caplog.text.count(f"{uri}: decode.v0_10_1.train.handler.image_url: required") == 1
    assert adapter_client.operations == ["HeadObject", "HeadObject", "GetObject", "HeadObject"]


async def test_malformed_yaml_at_reload_keeps_the_last_good_catalogue(
    adapter_client: CountedClient,
    s3_client: Any,
    uri: str,
    ticks: Ticks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalogue = await loaded(adapter_client, uri, ticks)
    good = await catalogue.current()
    await overwrite(s3_client, uri, "decode:\n  v1: [unclosed\n")

    with caplog.at_level(logging.ERROR):
        kept = await catalogue.current()

    assert kept is good
    assert f"{uri}: not valid YAML" in caplog.text


async def test_a_deleted_object_keeps_the_last_good_catalogue_until_it_returns(
    adapter_client: CountedClient,
    s3_client: Any,
    s3_bucket: str,
    uri: str,
    ticks: Ticks,
    reference_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalogue = await loaded(adapter_client, uri, ticks)
    good = await catalogue.current()
    await s3_client.delete_object(Bucket=s3_bucket, Key=KEY)

    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            assert await catalogue.current() is good
    await overwrite(s3_client, uri, reference_text.replace("comet:", "back:", 1))
    returned = await catalogue.current()

    assert caplog.text.count(f"{uri}: no such object or bucket (404)") == 1
    assert set(returned.document) == {"decode", "back"}


async def test_a_missing_object_stops_start_up_naming_it(
    settings: Settings, s3_bucket: str
) -> None:
    missing = f"s3://{s3_bucket}/config/missing.yaml"
    with pytest.raises(SettingsError) as raised:
        async with open_services(replace(settings, catalogue=CatalogueSettings(missing))):
            pass

    assert str(raised.value) == f"APPLICATION_CONFIG_FILE: {missing}: no such object (NoSuchKey)"


async def test_a_missing_bucket_stops_start_up_naming_it(
    settings: Settings, moto_endpoint: str
) -> None:
    missing = "s3://no-such-bucket-here/config/application_config.yaml"
    with pytest.raises(SettingsError) as raised:
        async with open_services(replace(settings, catalogue=CatalogueSettings(missing))):
            pass

    assert str(raised.value) == (
        f"APPLICATION_CONFIG_FILE: {missing}: no such bucket (NoSuchBucket)"
    )


async def test_an_invalid_object_stops_start_up_naming_the_key_at_fault(
    settings: Settings, s3_client: Any, uri: str, reference_text: str
) -> None:
    await overwrite(s3_client, uri, reference_text.replace("image_url:", "image_link:", 1))
    with pytest.raises(SettingsError) as raised:
        async with open_services(replace(settings, catalogue=CatalogueSettings(uri))):
            pass

    fault = "decode.v0_10_1.train.handler.image_url: required"
    assert str(raised.value) == f"APPLICATION_CONFIG_FILE: {uri}: {fault}"


@pytest.mark.parametrize("malformed", ["s3://bucket-only", "s3://bucket/", "s3:///key.yaml"])
async def test_a_uri_without_bucket_or_key_stops_start_up(
    settings: Settings, malformed: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        async with open_services(replace(settings, catalogue=CatalogueSettings(malformed))):
            pass

    assert str(raised.value) == (
        f"APPLICATION_CONFIG_FILE: {malformed}: not an S3 object URI, accepted: s3://bucket/key"
    )


@pytest.fixture
def s3_document(reference_text: str) -> Any:
    """The reference catalogue with its `comet` application renamed, to tell it from the file."""
    document = yaml.safe_load(reference_text)
    document["comet_from_s3"] = document.pop("comet")
    return document


@pytest.fixture
async def environ(
    environ: dict[str, str], s3_client: Any, s3_bucket: str, s3_document: Any
) -> dict[str, str]:
    """The default test deployment, with the catalogue in a bucket instead of a file."""
    await s3_client.put_object(Bucket=s3_bucket, Key=KEY, Body=yaml.safe_dump(s3_document).encode())
    return {**environ, "APPLICATION_CONFIG_FILE": f"s3://{s3_bucket}/{KEY}"}


async def test_the_applications_endpoint_serves_the_catalogue_from_s3(
    client: Client, user_headers: TokenFactory, s3_document: Any
) -> None:
    response = await client.get("/jobs/applications", headers=await user_headers())

    assert response.status == 200
    assert await response.json() == s3_document


async def test_an_edited_object_is_served_by_the_next_request(
    client: Client,
    user_headers: TokenFactory,
    s3_client: Any,
    s3_bucket: str,
    s3_document: Any,
) -> None:
    headers = await user_headers()
    first = await client.get("/jobs/applications", headers=headers)
    edited = {**s3_document, "added": s3_document["decode"]}
    await s3_client.put_object(Bucket=s3_bucket, Key=KEY, Body=yaml.safe_dump(edited).encode())

    second = await client.get("/jobs/applications", headers=headers)

    assert await first.json() == s3_document
    assert await second.json() == edited
