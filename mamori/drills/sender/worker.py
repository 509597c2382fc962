"""The ``mamori worker`` handler that sends drill mail: claim a batch, send it over one connection, repeat.

Per mail, in order: render, compose, wait for the rate limit's slot, one SMTP transaction, then one UPDATE
committed on its own. A worker killed at any moment has therefore recorded every mail the server accepted,
except at most the one in flight, which is sent again once its lease expires.

Between mails the batch stops early, giving its unsent rows back at once, when the worker is asked to stop
(SIGTERM), when the lease is about to run out, or when a campaign was paused or cancelled meanwhile
(checked about once a second, so at most a second's worth of mail leaves after the pause).
"""

import contextlib
import datetime
import logging
import smtplib
import threading
import time

from django.db import DatabaseError, connection
from django.utils import timezone

from mamori.core import worker
from mamori.core.models import Organization
from mamori.drills.actions.sending import finish_sending, record_failure, record_retry, record_sent, start_sending
from mamori.drills.models import Delivery, Scenario
from mamori.drills.rendering import TemplateRenderError, render_for_delivery
from mamori.drills.sender.claim import SENDABLE_CAMPAIGN_STATES, Batch, claim_batch, release, return_unused_slots
from mamori.drills.sender.compose import InvalidExtraHeader, compose_mail
from mamori.drills.sender.smtp import SMTP_TIMEOUT_SECONDS, classify, close_quietly, open_connection, transmit

logger = logging.getLogger(__name__)

# Mails per batch of an unlimited profile: one claim and one connection for this many.
BATCH_SIZE = 200
LEASE_SECONDS = 120
# Stop sending from a batch when its lease has less than this left: one slow SMTP transaction (up to the
# timeout, twice with a reconnect) must still finish before another worker may claim the rows.
LEASE_MARGIN_SECONDS = 2 * SMTP_TIMEOUT_SECONDS + 5
# How often a batch re-reads whether its campaigns were paused or cancelled.
RECHECK_SECONDS = 1.0
# Rounding room when checking that a rate-limited mail still fits in the batch's reserved slots.
SLOT_TOLERANCE_SECONDS = 0.002


def send_due_deliveries(
    *, batch_size: int = BATCH_SIZE, lease_seconds: float = LEASE_SECONDS, stop: threading.Event | None = None
) -> bool:
    """Send one batch of due drill mail; False when nothing was due."""
    batch = claim_batch(batch_size=batch_size, lease_seconds=lease_seconds)
    if batch is None:
        return False
    BatchSender(batch, stop or worker.stop_requested).run()
    return True


@contextlib.contextmanager
def commits_without_flush_wait():
    """On PostgreSQL, let each per-mail commit return before its WAL record reaches the disk.

    The commit is still immediate and visible to every session, so a worker killed at any moment loses
    nothing (the guarantee above holds). Only a crash of the database server itself may forget the last
    fraction of a second of "sent" marks (PostgreSQL flushes every 200 ms); those mails would be sent a
    second time, never lost. Waiting for the flush instead costs 0.3–3 ms per mail on this hardware.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class ServerUnreachable(Exception):
    """No connection to the profile's server could be opened; ``reason`` says why, in Japanese."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BatchSender:
    """Sends one claimed batch through one SMTP connection, opened at the first mail."""

    def __init__(self, batch: Batch, stop: threading.Event):
        self.batch = batch
        self.profile = batch.profile
        self.stop = stop
        self.connection: smtplib.SMTP | None = None
        self.finished: set[int] = set()
        # Deadlines on the monotonic clock: a wall-clock step must not bunch or stretch the mails.
        started, wall = time.monotonic(), timezone.now()
        self.lease_deadline = started + (batch.lease_until - wall).total_seconds()
        self.first_slot = started + ((batch.first_slot or wall) - wall).total_seconds()
        self.slots_end = started + ((batch.reserved_until or wall) - wall).total_seconds()
        self.next_slot = self.first_slot

    def run(self) -> None:
        started = time.monotonic()
        deliveries = self.load()
        start_sending(self.batch.delivery_ids)
        try:
            with commits_without_flush_wait():
                self.send_all(deliveries)
        finally:
            close_quietly(self.connection)
            release(self.batch, [d.pk for d in deliveries if d.pk not in self.finished])
            if self.batch.first_slot is not None:
                used = datetime.timedelta(seconds=self.next_slot - self.first_slot)
                return_unused_slots(self.batch, self.batch.first_slot + used)
            finish_sending({d.campaign_id for d in deliveries})
        logger.info(
            "profile %s: %d of %d deliveries done in %.2f s",
            self.profile.pk,
            len(self.finished),
            len(deliveries),
            time.monotonic() - started,
        )

    def load(self) -> list[Delivery]:
        """The batch's deliveries with what rendering needs; scenarios and organizations loaded once each."""
        deliveries = list(
            Delivery.objects.filter(pk__in=self.batch.delivery_ids)
            .select_related("person__department")
            .order_by("scheduled_at", "pk")
        )
        scenarios = Scenario.objects.in_bulk({delivery.scenario_id for delivery in deliveries})
        organizations = Organization.objects.in_bulk({delivery.organization_id for delivery in deliveries})
        for delivery in deliveries:
            delivery.scenario = scenarios[delivery.scenario_id]
            delivery.organization = organizations[delivery.organization_id]
        return deliveries

    def send_all(self, deliveries: list[Delivery]) -> None:
        sendable = {delivery.pk for delivery in deliveries}
        next_check = time.monotonic() + RECHECK_SECONDS
        for index, delivery in enumerate(deliveries):
            if self.stop.is_set() or time.monotonic() > self.lease_deadline - LEASE_MARGIN_SECONDS:
                return
            if time.monotonic() >= next_check:
                sendable = self.still_sendable([d.pk for d in deliveries[index:]])
                next_check = time.monotonic() + RECHECK_SECONDS
            if delivery.pk not in sendable:
                continue
            try:
                if not self.send(delivery):
                    return
            except ServerUnreachable as unreachable:
                # Nothing of the batch can go: all of it waits for its next attempt.
                for waiting in deliveries[index:]:
                    if waiting.pk in sendable:
                        self.finish(waiting, record_retry, unreachable.reason)
                return

    def still_sendable(self, ids: list[int]) -> set[int]:
        """Those of ``ids`` still queued, still ours, and whose campaign is neither paused nor cancelled."""
        return set(
            Delivery.objects.filter(
                pk__in=ids,
                state=Delivery.State.QUEUED,
                lease_until=self.batch.lease_until,
                campaign__paused_at__isnull=True,
                campaign__state__in=SENDABLE_CAMPAIGN_STATES,
            ).values_list("pk", flat=True)
        )

    def send(self, delivery: Delivery) -> bool:
        """Send one mail and record the outcome; False when the batch must stop here.

        Raises ``ServerUnreachable`` when no connection can be opened.
        """
        try:
            mail = compose_mail(
                render_for_delivery(delivery),
                recipient=delivery.email,
                profile=self.profile,
                token=delivery.token,
                reference=delivery.pk,
            )
        except (TemplateRenderError, InvalidExtraHeader) as error:
            self.finish(delivery, record_failure, str(error))
            return True
        if self.connection is None:
            try:
                self.connection = open_connection(self.profile)
            except (smtplib.SMTPException, OSError) as error:
                raise ServerUnreachable(classify(error).description) from error
        # Connected before waiting: the slot times the transaction itself, not the greeting.
        if not self.wait_for_slot():
            return False
        try:
            transmit(self.connection, mail.envelope_sender, mail.recipient, mail.content)
        except (smtplib.SMTPException, OSError) as error:
            failure = classify(error)
            self.finish(delivery, record_failure if failure.permanent else record_retry, failure.description)
            if failure.connection_lost:
                # The next mail opens a new connection; if that fails too, the rest of the batch waits.
                close_quietly(self.connection)
                self.connection = None
            return True
        self.finish(delivery, record_sent, mail.message_id)
        return True

    def finish(self, delivery: Delivery, outcome, detail: str) -> None:
        """Record a delivery's outcome (sent, retry, failure); it is no longer this batch's to give back."""
        self.finished.add(delivery.pk)
        outcome(delivery, detail)

    def wait_for_slot(self) -> bool:
        """Wait for this mail's turn under the rate limit; False when the batch must stop here.

        Mails stay at least one interval apart even after a delay (a late worker never bursts to catch up)
        and inside the slots this batch reserved, so workers sending for one profile never overlap. A mail
        that no longer fits is given back with the rest and goes in a later reservation.
        """
        if self.batch.first_slot is None:
            return True
        due = max(self.next_slot, time.monotonic())
        if due > self.slots_end - self.batch.interval + SLOT_TOLERANCE_SECONDS:
            return False
        delay = due - time.monotonic()
        if delay > 0 and self.stop.wait(delay):
            return False
        self.next_slot = due + self.batch.interval
        return True
