"""Thanks replies to the person who reported. Each mail type is one function with three templates:
``<name>-subject.txt``, ``<name>-body.txt`` and ``<name>-body.html`` under ``templates/reporting/mail/``.

A report after a click is thanked as warmly as any other: hiding is the worst outcome, not clicking.
"""

import contextlib
import contextvars
import re
import smtplib
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.utils import translation

from mamori.learning.content import first_response_rules, report_contact
from mamori.reporting.models import Report

# Only a well-formed Message-ID is echoed into In-Reply-To (the value came from an outside mail).
MESSAGE_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>$")

DROPPED_CONNECTION = (smtplib.SMTPServerDisconnected, ConnectionError)
# The mailer a batch of thanks shares (see ``shared_connection``); None: one connection per mail.
_shared_mailer: contextvars.ContextVar = contextvars.ContextVar("shared_mailer", default=None)


@contextlib.contextmanager
def shared_connection() -> Iterator[None]:
    """Send every thanks mail inside the block over one SMTP connection, opened at the first mail.

    A connection per mail (TCP, greeting, EHLO, STARTTLS, AUTH) costs more than the report itself when the
    report mailbox is worked through in batches.
    """
    mailer = mailers.default
    token = _shared_mailer.set(mailer)
    try:
        yield
    finally:
        _shared_mailer.reset(token)
        mailer.close()


def _deliver(message: EmailMultiAlternatives) -> None:
    mailer = _shared_mailer.get()
    if mailer is None:
        message.send()
        return
    # open() is False when the connection was already open: the server may have dropped it meanwhile (idle
    # or per-connection limits), so a disconnect there is retried once on a fresh connection.
    reused = mailer.open() is False
    try:
        mailer.send_messages([message])
    except DROPPED_CONNECTION:
        mailer.close()
        if not reused:
            raise
        _send_on_fresh_connection(mailer, message)
    except Exception:
        # The connection's state after an SMTP error is unknown: the next mail starts on a new one.
        mailer.close()
        raise


def _send_on_fresh_connection(mailer, message: EmailMultiAlternatives) -> None:
    mailer.open()
    try:
        mailer.send_messages([message])
    except Exception:
        mailer.close()
        raise


def _send(name: str, report: Report, to: str, context: dict) -> None:
    # Mail goes out in the site language whatever language the report arrived in.
    with translation.override(settings.LANGUAGE_CODE):
        prefix = f"reporting/mail/{name}"
        context = {"report": report, "organization": report.organization, "site_url": settings.SITE_URL, **context}
        subject = "".join(render_to_string(f"{prefix}-subject.txt", context).splitlines()).strip()
        # RFC 3834: an automatic reply, so that out-of-office responders do not answer it back.
        headers = {"Auto-Submitted": "auto-replied"}
        if MESSAGE_ID.match(report.envelope_message_id):
            headers["In-Reply-To"] = report.envelope_message_id
            headers["References"] = report.envelope_message_id
        message = EmailMultiAlternatives(
            subject=subject, body=render_to_string(f"{prefix}-body.txt", context), to=[to], headers=headers
        )
        message.attach_alternative(render_to_string(f"{prefix}-body.html", context), "text/html")
    _deliver(message)


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else max(1, round(seconds / 60))


def send_drill_thanks(report: Report, to: str) -> None:
    """The reported mail was a drill: thank them, say so, and say how quickly they reported."""
    _send("drill-thanks", report, to, {"minutes_since_sent": _minutes(report.seconds_since_sent)})


def send_clicked_drill_thanks(report: Report, to: str) -> None:
    """A drill reported after the person's own click (or scan, attachment, input): the same warm thanks."""
    _send(
        "clicked-drill-thanks",
        report,
        to,
        {
            "minutes_since_sent": _minutes(report.seconds_since_sent),
            "minutes_since_failure": _minutes(report.seconds_since_failure),
        },
    )


def send_real_thanks(report: Report, to: str) -> None:
    """A report that is not a drill: thank them, tell them the CSIRT will look, and repeat the first rules."""
    _send(
        "real-thanks",
        report,
        to,
        {"rules": first_response_rules(report.organization), "contact": report_contact(report.organization)},
    )


SENDERS = {
    Report.Thanks.DRILL: send_drill_thanks,
    Report.Thanks.CLICKED_DRILL: send_clicked_drill_thanks,
    Report.Thanks.REAL: send_real_thanks,
}
