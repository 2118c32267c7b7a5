"""The words of the e-mail telling a user that their job has ended.

Job names and runtime details are user-controlled: they are escaped in the HTML
part and stripped of line breaks in the subject.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from userfacing_api.ports.notifier import JobEndedNotice

PRODUCT = "DECODE OpenCloud"
# Runtime details grow with every report; the end holds the outcome.
MAX_DETAILS_CHARS = 4000
_OUTCOMES = {"finished": "finished", "error": "ended with an error"}


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def compose_notice(notice: JobEndedNotice, frontend_url: str | None) -> EmailContent:
    outcome = _OUTCOMES.get(notice.status, notice.status)
    details = _tail(notice.runtime_details)
    return EmailContent(
        subject=_one_line(f"{PRODUCT}: job '{notice.job_name}' {outcome}"),
        text=_text(notice, outcome, details, frontend_url),
        html=_html(notice, outcome, details, frontend_url),
    )


def _text(notice: JobEndedNotice, outcome: str, details: str | None, link: str | None) -> str:
    lines = [
        "Hello,",
        "",
        f"your {PRODUCT} job '{notice.job_name}' (id {notice.job_id}) {outcome}.",
    ]
    if details:
        lines += ["", "Details reported by the worker:", details]
    if link:
        lines += ["", f"Your jobs and their results: {link}"]
    return "\n".join(lines) + "\n"


def _html(notice: JobEndedNotice, outcome: str, details: str | None, link: str | None) -> str:
    name = html.escape(notice.job_name)
    parts = [
        "<p>Hello,</p>",
        f"<p>your {PRODUCT} job <strong>{name}</strong> (id {notice.job_id})"
        f" {html.escape(outcome)}.</p>",
    ]
    if details:
        parts.append(f"<p>Details reported by the worker:</p><pre>{html.escape(details)}</pre>")
    if link:
        parts.append(f'<p><a href="{html.escape(link)}">Your jobs and their results</a></p>')
    return "\n".join(parts)


def _tail(details: str | None) -> str | None:
    if details is None or not details.strip():
        return None
    details = details.strip()
    return details if len(details) <= MAX_DETAILS_CHARS else "…" + details[-MAX_DETAILS_CHARS:]


def _one_line(text: str) -> str:
    return " ".join(text.split())
