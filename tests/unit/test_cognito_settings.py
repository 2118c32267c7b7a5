"""Where the service looks for a Cognito pool's keys and which issuer it expects."""

from __future__ import annotations

import pytest

from userfacing_api.settings import SettingsError, load_settings

POOL = "eu-central-1_AbCdEf123"
COGNITO = {"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": "client"}


def test_the_keys_and_issuer_default_to_the_pools_aws_addresses() -> None:
    settings = load_settings(COGNITO)

    assert settings.identity.cognito_jwks_url == (
        f"https://cognito-idp.eu-central-1.amazonaws.com/{POOL}/.well-known/jwks.json"
    )
    assert (
        settings.identity.cognito_issuer == f"https://cognito-idp.eu-central-1.amazonaws.com/{POOL}"
    )


def test_an_aws_endpoint_override_moves_the_keys_but_not_the_issuer() -> None:
    settings = load_settings({**COGNITO, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000/"})

    assert (
        settings.identity.cognito_jwks_url == f"http://127.0.0.1:5000/{POOL}/.well-known/jwks.json"
    )
    assert (
        settings.identity.cognito_issuer == f"https://cognito-idp.eu-central-1.amazonaws.com/{POOL}"
    )


def test_the_cognito_endpoint_override_wins_over_the_global_one() -> None:
    settings = load_settings(
        {
            **COGNITO,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            "AWS_ENDPOINT_URL_COGNITO_IDP": "http://127.0.0.1:9229",
        }
    )

    assert (
        settings.identity.cognito_jwks_url == f"http://127.0.0.1:9229/{POOL}/.well-known/jwks.json"
    )


def test_the_keys_url_and_the_issuer_can_be_set_outright() -> None:
    settings = load_settings(
        {
            **COGNITO,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            "COGNITO_JWKS_URL": "http://keys.example.org/jwks.json",
            "COGNITO_ISSUER": "http://127.0.0.1:9229/pool",
        }
    )

    assert settings.identity.cognito_jwks_url == "http://keys.example.org/jwks.json"
    assert settings.identity.cognito_issuer == "http://127.0.0.1:9229/pool"


@pytest.mark.parametrize("variable", ["COGNITO_JWKS_URL", "COGNITO_ISSUER", "AWS_ENDPOINT_URL"])
def test_a_url_setting_that_is_no_http_url_is_refused(variable: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**COGNITO, variable: "keys.example.org/jwks.json"})

    assert raised.value.variable == variable


def test_the_local_provider_needs_no_cognito_urls() -> None:
    settings = load_settings({"COGNITO_JWKS_URL": "not checked without cognito"})

    assert settings.identity.provider == "local"
    assert settings.identity.cognito_jwks_url is None
