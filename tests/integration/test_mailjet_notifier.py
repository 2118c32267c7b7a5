"""E-mail notices through Mailjet, against a local stand-in of its Send API."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.integration.fakes_http import FakeMailjet, ReceivedRequest
from userfacing_api.adapters.mailjet import MailjetNotifier
from userfacing_api.ports.notifier import JobEndedNotice

SENDER = "noreply@decode.example"
FRONTEND = "https://decode.example"
LOGGER = "userfacing_api.adapters.mailjet"

NOTICE = JobEndedNotice(
    job_id=7,
    job_name="my-job",
    status="finished",
    recipient="alice@example.org",
    runtime_details="trained 30 epochs",
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        yield session


def make_notifier(
    session: aiohttp.ClientSession, mailjet: FakeMailjet, secret_key: str | None = None
) -> MailjetNotifier:
    return MailjetNotifier(
        session,
        mailjet.api_key,
        secret_key or mailjet.secret_key,
        SENDER,
        base_url=mailjet.url,
        frontend_url=FRONTEND,
        max_attempts=4,
        backoff_seconds=0.01,
    )


@pytest.fixture
def notifier(session: aiohttp.ClientSession, fake_mailjet: FakeMailjet) -> MailjetNotifier:
    return make_notifier(session, fake_mailjet)


def only_message(received: ReceivedRequest) -> dict[str, Any]:
    [message] = received.body["Messages"]
    assert isinstance(message, dict)
    return message


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


async def test_a_finished_job_is_announced_to_its_owner_from_the_configured_sender(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet
) -> None:
    await notifier.job_ended(NOTICE)

    [received] = fake_mailjet.received
    assert received.status == 200
    scheme, _, credentials = received.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == (
        f"{fake_mailjet.api_key}:{fake_mailjet.secret_key}"
    )
    message = only_message(received)
    assert message["From"] == {"Email": SENDER, "Name": "DECODE OpenCloud"}
    assert message["To"] == [{"Email": "alice@example.org"}]
    assert message["Subject"] == "DECODE OpenCloud: job 'my-job' finished"
    assert "trained 30 epochs" in message["TextPart"]
    assert FRONTEND in message["TextPart"]
    assert "my-job" in message["HTMLPart"]
    assert f'href="{FRONTEND}"' in message["HTMLPart"]


async def test_a_failed_job_is_announced_with_an_error_in_the_subject(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet
) -> None:
    await notifier.job_ended(
        JobEndedNotice(7, "my-job", "error", "alice@example.org", "out of memory")
    )

    message = only_message(fake_mailjet.received[0])
    assert message["Subject"] == "DECODE OpenCloud: job 'my-job' ended with an error"
    assert "out of memory" in message["TextPart"]


async def test_a_job_name_with_markup_is_escaped_in_the_html_part(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet
) -> None:
    await notifier.job_ended(
        JobEndedNotice(7, "<script>alert(1)</script>", "error", "alice@example.org", "<b>oom</b>")
    )

    message = only_message(fake_mailjet.received[0])
    assert "<script>" not in message["HTMLPart"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message["HTMLPart"]
    assert "&lt;b&gt;oom&lt;/b&gt;" in message["HTMLPart"]
    assert "<script>alert(1)</script>" in message["Subject"]


async def test_a_job_name_with_line_breaks_gives_a_one_line_subject(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet
) -> None:
    await notifier.job_ended(JobEndedNotice(7, "a\r\nBcc: x@y", "finished", "a@b.org", None))

    assert only_message(fake_mailjet.received[0])["Subject"] == (
        "DECODE OpenCloud: job 'a Bcc: x@y' finished"
    )


async def test_a_throttled_send_is_retried_until_mailjet_accepts_it(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet, caplog: pytest.LogCaptureFixture
) -> None:
    fake_mailjet.throttle(2)

    await notifier.job_ended(NOTICE)

    assert [received.status for received in fake_mailjet.received] == [429, 429, 200]
    assert all(received.body == fake_mailjet.received[0].body for received in fake_mailjet.received)
    assert not any("dropped" in line for line in warnings_logged(caplog))


async def test_the_pause_before_a_retry_follows_retry_after(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet
) -> None:
    fake_mailjet.throttle(1, retry_after=1)

    await notifier.job_ended(NOTICE)

    first, second = fake_mailjet.received
    assert second.status == 200
    assert second.at - first.at >= 0.9


async def test_a_mailjet_failing_for_good_is_tried_max_attempts_times_then_logged(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet, caplog: pytest.LogCaptureFixture
) -> None:
    fake_mailjet.fail(500)

    await notifier.job_ended(NOTICE)

    assert [received.status for received in fake_mailjet.received] == [500] * 4
    assert any("dropped after 4 attempts" in line for line in warnings_logged(caplog))


async def test_wrong_credentials_are_logged_once_without_the_secret_and_not_retried(
    session: aiohttp.ClientSession, fake_mailjet: FakeMailjet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = make_notifier(session, fake_mailjet, secret_key="a-wrong-mailjet-secret")

    await notifier.job_ended(NOTICE)

    assert [received.status for received in fake_mailjet.received] == [401]
    [warning] = warnings_logged(caplog)
    assert "401" in warning
    assert "a-wrong-mailjet-secret" not in caplog.text
    assert fake_mailjet.api_key not in caplog.text


async def test_an_unreachable_mailjet_is_logged_and_not_raised(
    notifier: MailjetNotifier, fake_mailjet: FakeMailjet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await fake_mailjet.go_down()

    await notifier.job_ended(NOTICE)

    lines = warnings_logged(caplog)
    assert len(lines) == 4
    assert "cannot connect" in lines[-1]
    assert "dropped after 4 attempts" in lines[-1]
    assert fake_mailjet.secret_key not in caplog.text
    assert fake_mailjet.api_key not in caplog.text
