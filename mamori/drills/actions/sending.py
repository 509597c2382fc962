"""State changes of sending: sending profiles (送信設定), their test mail, and each delivery's outcome.

The sender (``mamori.drills.sender``) calls the delivery functions once per mail, each a single
conditional UPDATE committed on its own: after a crash, what the database says was sent was sent.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.drills.models import Campaign, Delivery, SendingProfile
from mamori.drills.rendering import RenderedMail
from mamori.drills.sender.compose import InvalidExtraHeader, compose_mail
from mamori.drills.sender.smtp import classify, close_quietly, open_connection, transmit

logger = logging.getLogger(__name__)

# Waits before the 2nd … 6th attempt after a temporary failure (4xx, connection): about 5 hours in all,
# enough to ride out a relay's maintenance, short enough that the round still lands in its window.
RETRY_DELAYS = tuple(datetime.timedelta(minutes=minutes) for minutes in (1, 5, 15, 60, 240))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Shown in Delivery.last_error; a server's reply can be long.
MAX_ERROR_LENGTH = 1000
# The test mail runs inside a page request: an unreachable server is reported within this time.
TEST_SEND_TIMEOUT_SECONDS = 15

# --- Sending profiles -------------------------------------------------------------------------------


@transaction.atomic
def save_sending_profile(form, *, by, request=None) -> SendingProfile:
    """Create or update a profile from its form; the audit entry names the changed fields, never a secret."""
    created = form.instance.pk is None
    changed = sorted(name for name in form.changed_data if name not in form.secret_fields)
    profile = form.save()
    record(
        "sending_profile.created" if created else "sending_profile.updated",
        organization=profile.organization,
        actor=by,
        request=request,
        target=profile.name,
        profile=str(profile.public_id),
        changed=changed,
        password_changed=form.password_changed,
    )
    return profile


@dataclass(frozen=True)
class TrialSendResult:
    """``reply`` is the server's final reply when ``delivered``, otherwise the reason in Japanese."""

    delivered: bool
    reply: str


class OutsiderAddress(ValueError):
    """A test mail to an address outside the organization's verified domains."""


def trial_message(profile: SendingProfile, *, now: datetime.datetime) -> RenderedMail:
    sender_address = profile.envelope_sender or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    sent_at = timezone.localtime(now).strftime("%Y年%m月%d日 %H:%M:%S")
    return RenderedMail(
        subject=_("【mamori】送信設定「%(name)s」のテストメール") % {"name": profile.name},
        text=_(
            "このメールは mamori の送信設定「%(name)s」から送ったテストメールです。\n"
            "届いていれば、SMTP サーバー・暗号化・認証・文字コード（%(charset)s）の設定で送信できます。\n\n"
            "送信日時: %(sent_at)s\n"
        )
        % {"name": profile.name, "charset": profile.get_charset_display(), "sent_at": sent_at},
        sender_name=_("mamori 送信テスト"),
        sender_address=sender_address,
    )


def send_test_mail(profile: SendingProfile, recipient: str, *, by, request=None) -> TrialSendResult:
    """Send one test mail through the profile now and report what the server answered.

    Only to the organization's own verified domains: the page must not become a way to mail outsiders.
    """
    if not profile.organization.accepts_email(recipient):
        raise OutsiderAddress(_("テストメールは組織の確認済みドメインのアドレスにだけ送れます。"))
    now = timezone.now()
    connection = None
    try:
        mail = compose_mail(trial_message(profile, now=now), recipient=recipient, profile=profile, now=now)
        connection = open_connection(profile, timeout=TEST_SEND_TIMEOUT_SECONDS)
        result = TrialSendResult(True, transmit(connection, mail.envelope_sender, recipient, mail.content))
    except InvalidExtraHeader as error:
        result = TrialSendResult(False, str(error))
    except (smtplib.SMTPException, OSError) as error:
        result = TrialSendResult(False, classify(error).description)
    finally:
        close_quietly(connection)
    record(
        "sending_profile.test_sent",
        organization=profile.organization,
        actor=by,
        request=request,
        target=profile.name,
        profile=str(profile.public_id),
        recipient=recipient,
        delivered=result.delivered,
        reply=result.reply[:MAX_ERROR_LENGTH],
    )
    return result


# --- Deliveries (called by the sender) ----------------------------------------------------------------


def record_sent(delivery: Delivery, message_id: str, *, now: datetime.datetime | None = None) -> None:
    """The server accepted the mail: sent, with its Message-ID; the lease is dropped.

    Written as SQL because it runs once per mail: building it with the ORM costs three times the CPU of
    executing it, a fifth of what a whole mail costs the worker.
    """
    sql = (
        f"UPDATE {Delivery._meta.db_table} SET state = %s, sent_at = %s, message_id = %s, "  # noqa: S608
        "attempts = attempts + 1, lease_until = NULL, last_error = '' WHERE id = %s AND state = %s"
    )
    sent_at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [Delivery.State.SENT.value, sent_at, message_id, delivery.pk, Delivery.State.QUEUED.value])


def record_retry(delivery: Delivery, reason: str, *, now: datetime.datetime | None = None) -> bool:
    """A temporary failure: queue the delivery again after a growing delay, or fail it after the last try.

    Returns True if it will be tried again.
    """
    attempt = delivery.attempts + 1
    if attempt >= MAX_ATTEMPTS:
        record_failure(delivery, reason, attempts=attempt)
        return False
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.QUEUED).update(
        attempts=attempt,
        scheduled_at=(now or timezone.now()) + RETRY_DELAYS[attempt - 1],
        lease_until=None,
        last_error=reason[:MAX_ERROR_LENGTH],
    )
    return True


def record_failure(delivery: Delivery, reason: str, *, attempts: int | None = None) -> None:
    """A permanent failure (5xx, a template that cannot render, retries exhausted): the reason is kept."""
    logger.warning("delivery %s failed: %s", delivery.pk, reason)
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.QUEUED).update(
        state=Delivery.State.FAILED,
        attempts=delivery.attempts + 1 if attempts is None else attempts,
        lease_until=None,
        last_error=reason[:MAX_ERROR_LENGTH],
    )


def start_sending(delivery_ids: list[int]) -> int:
    """Campaigns of these deliveries go from scheduled to sending (idempotent)."""
    campaigns = Delivery.objects.filter(pk__in=delivery_ids).values("campaign_id")
    return Campaign.objects.filter(pk__in=campaigns, state=Campaign.State.SCHEDULED).update(
        state=Campaign.State.SENDING
    )


def finish_sending(campaign_ids: set[int]) -> int:
    """Campaigns with no queued delivery left go from sending to running (idempotent)."""
    queued = Delivery.objects.filter(campaign=OuterRef("pk"), state=Delivery.State.QUEUED)
    return (
        Campaign.objects.filter(pk__in=campaign_ids, state=Campaign.State.SENDING)
        .filter(~Exists(queued))
        .update(state=Campaign.State.RUNNING)
    )
