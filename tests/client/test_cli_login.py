"""`decode-cloud login | whoami | logout` with the service's own identity and with Cognito."""

from __future__ import annotations

import json
import stat
from dataclasses import replace

from tests.client.cli import Cli, assert_ok, assert_one_line_error
from tests.client.conftest import SCIENTIST, Deployment, log_in, moto_environ
from tests.client.service import PASSWORD, Service
from tests.integration.cognito_pool import CognitoPool


async def test_a_local_login_is_cached_privately_and_used_until_logout(
    cli: Cli, local_deployment: Deployment
) -> None:
    service = local_deployment.service
    await log_in(cli, service)
    credentials_file = cli.config_dir / "credentials.json"
    cached = json.loads(credentials_file.read_text())

    whoami = assert_ok(await cli.run("whoami"))
    whoami_json = assert_ok(await cli.run("whoami", "--json"))
    logout = assert_ok(await cli.run("logout"))
    after = await cli.run("whoami", "--url", service.url)

    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    assert cached["default"] == service.url
    assert cached["servers"][service.url]["username"] == SCIENTIST
    assert cached["servers"][service.url]["refresh_token"] is None
    assert whoami.lines == [f"{SCIENTIST} at {service.url} (groups: users)"]
    assert json.loads(whoami_json.stdout) == {
        "url": service.url,
        "email": SCIENTIST,
        "groups": ["users"],
    }
    assert logout.lines == [f"logged out of {service.url}"]
    assert SCIENTIST not in credentials_file.read_text()
    assert assert_one_line_error(after, 3) == (
        f"error: not logged in to {service.url}; run `decode-cloud login`"
    )


async def test_a_wrong_password_or_an_expired_local_login_exits_with_3(
    cli: Cli, local_deployment: Deployment
) -> None:
    service = local_deployment.service
    await log_in(cli, service)
    wrong = await cli.run(
        "login", "--username", SCIENTIST, "--password-stdin", stdin="not the password\n"
    )
    store = cli.store()
    credentials = store.get(service.url)
    assert credentials is not None
    store.save(replace(credentials, expires_at=0))

    expired = await cli.run("ls")

    assert assert_one_line_error(wrong, 3).startswith("error: login refused: 400: ")
    assert assert_one_line_error(expired, 3) == (
        f"error: the login at {service.url} expired; run `decode-cloud login`"
    )


async def test_a_cognito_login_renews_its_id_token_silently(
    cli: Cli, cognito_service: Service, cognito_pool: CognitoPool
) -> None:
    cognito_cli = Cli(cli.home, moto_environ(cognito_pool.endpoint))
    await cognito_service.register(SCIENTIST)

    login = assert_ok(
        await cognito_cli.run(
            "login",
            "--url",
            cognito_service.url,
            "--username",
            SCIENTIST,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    store = cognito_cli.store()
    first = store.get(cognito_service.url)
    assert first is not None
    store.save(replace(first, id_token="expired", expires_at=0))
    whoami = assert_ok(await cognito_cli.run("whoami"))
    renewed = store.get(cognito_service.url)

    assert login.lines == [f"logged in to {cognito_service.url} as {SCIENTIST} (cognito identity)"]
    assert first.cognito is not None
    assert first.cognito.user_pool_id == cognito_pool.pool_id
    assert first.refresh_token
    assert whoami.lines == [f"{SCIENTIST} at {cognito_service.url} (groups: users)"]
    assert renewed is not None
    assert renewed.id_token not in ("expired", first.id_token)
    assert renewed.refresh_token == first.refresh_token
    assert renewed.expires_at > 0


async def test_cognito_refusing_the_password_is_one_line(
    cli: Cli, cognito_service: Service, cognito_pool: CognitoPool
) -> None:
    cognito_cli = Cli(cli.home, moto_environ(cognito_pool.endpoint))
    await cognito_service.register(SCIENTIST)

    refused = await cognito_cli.run(
        "login",
        "--url",
        cognito_service.url,
        "--username",
        SCIENTIST,
        "--password-stdin",
        stdin="Wrong-horse-9\n",
    )

    assert "NotAuthorizedException" in assert_one_line_error(refused, 3)
