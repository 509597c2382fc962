"""The sender against a real SMTP server on loopback: what arrives, what is recorded, what is retried."""

import datetime
import threading
from unittest import mock

from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.drills.actions.sending import MAX_ATTEMPTS, RETRY_DELAYS
from mamori.drills.models import Campaign, Delivery, SendingProfile
from mamori.drills.sender import worker
from mamori.drills.sender.compose import DRILL_HEADER
from mamori.drills.sender.worker import send_due_deliveries
from mamori.drills.tests.makers import make_scenario
from mamori.drills.tests.sending import make_due_campaign
from mamori.drills.tests.smtp_server import SMTPTestServer, free_port


def drain(**options) -> int:
    """Run the handler until nothing is due; returns the number of batches."""
    batches = 0
    while send_due_deliveries(stop=threading.Event(), **options):
        batches += 1
    return batches


def make_due_again(campaign) -> None:
    """Let time pass: every retry that was pushed back is due now."""
    campaign.deliveries.filter(state=Delivery.State.QUEUED).update(
        scheduled_at=timezone.now() - datetime.timedelta(seconds=1)
    )


class SenderTestCase(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SMTPTestServer().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        super().tearDownClass()

    def setUp(self):
        self.server.reset()


class SendingTests(SenderTestCase):
    def test_it_sends_each_due_delivery_once_and_records_it(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=5)
        drain()
        self.assertEqual(sorted(self.server.recipients()), sorted(campaign.deliveries.values_list("email", flat=True)))
        for delivery in campaign.deliveries.all():
            self.assertEqual(delivery.state, Delivery.State.SENT)
            self.assertIsNotNone(delivery.sent_at)
            self.assertIsNone(delivery.lease_until)
            self.assertEqual(delivery.attempts, 1)
        received_ids = {mail.message["Message-ID"] for mail in self.server.received}
        self.assertEqual(received_ids, set(campaign.deliveries.values_list("message_id", flat=True)))
        self.assertEqual(len(received_ids), 5)

    def test_each_mail_goes_to_its_delivery_address_only_with_its_token_in_the_link(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        drain()
        tokens = dict(campaign.deliveries.values_list("email", "token"))
        for mail in self.server.received:
            (recipient,) = mail.rcpt_tos
            message = mail.message
            self.assertEqual(message["To"], recipient)
            self.assertIn(f"/c/{tokens[recipient]}", message.get_content())
            self.assertIsNone(message[DRILL_HEADER])

    def test_it_decodes_to_the_japanese_subject_and_sender(self):
        make_due_campaign(self.ward_a, port=self.server.port, recipients=1)
        drain()
        message = self.server.received[0].message
        self.assertTrue(str(message["Subject"]).startswith("【総務課】"))
        self.assertEqual(message["From"].addresses[0].display_name, "総務課 文書係")
        self.assertEqual(self.server.received[0].mail_from, "soumu@example-lookalike.jp")
        self.assertIn("様", message.get_content())

    def test_an_iso_2022_jp_profile_sends_jis_headers_and_a_7bit_body(self):
        make_due_campaign(self.ward_a, port=self.server.port, recipients=1, charset=SendingProfile.Charset.ISO2022JP)
        drain()
        raw = self.server.received[0].content
        self.assertIn(b"=?iso-2022-jp?b?", raw)
        message = self.server.received[0].message
        self.assertEqual(message.get_content_charset(), "iso-2022-jp")
        self.assertEqual(message["Content-Transfer-Encoding"], "7bit")
        self.assertTrue(str(message["Subject"]).startswith("【総務課】"))
        self.assertIn("様", message.get_content())

    def test_an_html_scenario_with_a_qr_code_arrives_as_alternative_with_a_related_image(self):
        scenario = make_scenario(
            self.ward_a,
            "多要素認証の更新",
            lure_type="qr_code",
            html_body='<html><body><p>{{ person_name }} 様</p><img src="{{ qr_image }}" alt="QR"></body></html>',
        )
        make_due_campaign(self.ward_a, port=self.server.port, recipients=1, scenario=scenario)
        drain()
        message = self.server.received[0].message
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        text, related = message.get_payload()
        self.assertEqual(text.get_content_type(), "text/plain")
        self.assertEqual(related.get_content_type(), "multipart/related")
        html, image = related.get_payload()
        content_id = image["Content-ID"].strip("<>")
        self.assertIn(f"cid:{content_id}", html.get_content())
        self.assertEqual(image.get_content_type(), "image/png")
        self.assertTrue(image.get_content().startswith(b"\x89PNG"))

    def test_an_attachment_scenario_carries_the_document_in_multipart_mixed(self):
        scenario = make_scenario(
            self.ward_a,
            "委託先からの請求書",
            lure_type="attachment",
            attachment_mode="pdf",
            attachment_name="請求書.pdf",
            attachment_body="{{ person_name }} 様\n請求書をお送りします。",
        )
        make_due_campaign(self.ward_a, port=self.server.port, recipients=1, scenario=scenario)
        drain()
        message = self.server.received[0].message
        self.assertEqual(message.get_content_type(), "multipart/mixed")
        (document,) = list(message.iter_attachments())
        self.assertEqual(document.get_filename(), "請求書.pdf")
        self.assertEqual(document.get_content_type(), "application/pdf")
        self.assertTrue(document.get_content().startswith(b"%PDF"))

    def test_the_profile_adds_its_extra_headers_envelope_sender_and_optional_drill_header(self):
        campaign = make_due_campaign(
            self.ward_a,
            port=self.server.port,
            recipients=1,
            extra_headers=[["X-Ward-Drill", "allow"]],
            envelope_sender="bounce@city-a.lg.jp",
            token_header=True,
        )
        drain()
        mail = self.server.received[0]
        self.assertEqual(mail.mail_from, "bounce@city-a.lg.jp")
        self.assertEqual(mail.message["X-Ward-Drill"], "allow")
        self.assertEqual(mail.message[DRILL_HEADER], campaign.deliveries.get().token)
        self.assertTrue(mail.message["Message-ID"].endswith("@city-a.lg.jp>"))

    def test_it_logs_in_with_the_sealed_password(self):
        with SMTPTestServer(credentials=("drill", "s3cret-pass")) as server:
            campaign = make_due_campaign(self.ward_a, port=server.port, recipients=2, username="drill")
            profile = campaign.sending_profile
            profile.password = "s3cret-pass"
            profile.save()
            self.assertNotIn("s3cret-pass", profile.sealed_password)
            drain()
            self.assertEqual(len(server.received), 2)

    def test_campaign_goes_from_scheduled_to_sending_to_running(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        send_due_deliveries(batch_size=2, stop=threading.Event())
        campaign.refresh_from_db()
        self.assertEqual(campaign.state, Campaign.State.SENDING)
        drain()
        campaign.refresh_from_db()
        self.assertEqual(campaign.state, Campaign.State.RUNNING)

    def test_batches_are_bounded_by_the_batch_size(self):
        make_due_campaign(self.ward_a, port=self.server.port, recipients=5)
        self.assertEqual(drain(batch_size=2), 3)
        self.assertEqual(len(self.server.received), 5)

    def test_it_sends_nothing_before_its_time_or_for_a_paused_campaign(self):
        later = make_due_campaign(self.ward_a, port=self.server.port, recipients=2)
        later.deliveries.update(scheduled_at=timezone.now() + datetime.timedelta(minutes=5))
        paused = make_due_campaign(self.ward_a, port=self.server.port, recipients=2, round_number=2)
        Campaign.objects.filter(pk=paused.pk).update(paused_at=timezone.now())
        draft = make_due_campaign(self.ward_a, port=self.server.port, recipients=2, round_number=3)
        Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.DRAFT)
        self.assertFalse(send_due_deliveries(stop=threading.Event()))
        self.assertEqual(self.server.received, [])

    def test_it_skips_cancelled_deliveries(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        cancelled = campaign.deliveries.first()
        Delivery.objects.filter(pk=cancelled.pk).update(state=Delivery.State.CANCELLED)
        drain()
        self.assertNotIn(cancelled.email, self.server.recipients())
        self.assertEqual(len(self.server.received), 2)

    def test_a_leased_delivery_is_not_claimed_until_its_lease_expires(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=1)
        campaign.deliveries.update(lease_until=timezone.now() + datetime.timedelta(minutes=1))
        self.assertFalse(send_due_deliveries(stop=threading.Event()))
        campaign.deliveries.update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
        drain()
        self.assertEqual(len(self.server.received), 1)

    def test_a_stop_request_leaves_the_batch_unsent_and_claimable(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        stop = threading.Event()
        stop.set()
        self.assertTrue(send_due_deliveries(stop=stop))
        self.assertEqual(self.server.received, [])
        self.assertFalse(campaign.deliveries.exclude(lease_until=None).exists())
        drain()
        self.assertEqual(len(self.server.received), 3)

    def test_a_campaign_paused_mid_batch_stops_at_the_next_check(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=4)
        render = worker.render_for_delivery

        def pause_while_rendering(delivery):
            Campaign.objects.filter(pk=campaign.pk).update(paused_at=timezone.now())
            return render(delivery)

        with (
            mock.patch.object(worker, "render_for_delivery", pause_while_rendering),
            mock.patch.object(worker, "RECHECK_SECONDS", 0),
        ):
            send_due_deliveries(stop=threading.Event())
        self.assertEqual(len(self.server.received), 1)
        self.assertEqual(campaign.deliveries.filter(state=Delivery.State.QUEUED, lease_until=None).count(), 3)

    def test_lines_starting_with_a_dot_survive_smtp_in_a_7bit_body(self):
        scenario = make_scenario(self.ward_a, "点で始まる行", text_body=".\n..{{ person_name }}\n.以上\n")
        make_due_campaign(
            self.ward_a,
            port=self.server.port,
            recipients=1,
            scenario=scenario,
            charset=SendingProfile.Charset.ISO2022JP,
        )
        drain()
        self.assertEqual(self.server.received[0].message.get_content().splitlines(), [".", "..職員 1-0", ".以上"])


class PlainSMTPTests(BaseTestCase):
    """A server that does not offer PIPELINING gets one command at a time."""

    def test_it_sends_retries_and_fails_without_pipelining(self):
        with SMTPTestServer(pipelining=False) as server:
            campaign = make_due_campaign(self.ward_a, port=server.port, recipients=3)
            busy, unknown, fine = campaign.deliveries.order_by("pk")
            server.refuse(busy.email, "451 4.3.0 Try again later", times=1)
            server.refuse(unknown.email, "550 5.1.1 User unknown")
            drain()
            self.assertEqual(server.recipients(), [fine.email])
        states = dict(campaign.deliveries.values_list("email", "state"))
        self.assertEqual(
            states,
            {busy.email: Delivery.State.QUEUED, unknown.email: Delivery.State.FAILED, fine.email: Delivery.State.SENT},
        )


class FailureTests(SenderTestCase):
    def test_a_4xx_reply_is_retried_later_and_then_sent(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=2)
        busy = campaign.deliveries.order_by("pk").first()
        self.server.refuse(busy.email, "451 4.3.0 Mailbox busy, try again", times=1)
        before = timezone.now()
        drain()
        busy.refresh_from_db()
        self.assertEqual(busy.state, Delivery.State.QUEUED)
        self.assertEqual(busy.attempts, 1)
        self.assertIn("451 4.3.0 Mailbox busy", busy.last_error)
        self.assertGreaterEqual(busy.scheduled_at, before + RETRY_DELAYS[0])
        self.assertIsNone(busy.lease_until)
        self.assertEqual(self.server.recipients().count(busy.email), 0)
        make_due_again(campaign)
        drain()
        busy.refresh_from_db()
        self.assertEqual((busy.state, busy.attempts, busy.last_error), (Delivery.State.SENT, 2, ""))
        self.assertEqual(self.server.recipients().count(busy.email), 1)

    def test_backoff_grows_and_the_last_attempt_fails_the_delivery(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=1)
        delivery = campaign.deliveries.get()
        self.server.refuse(delivery.email, "452 4.2.2 Over quota", stage="data")
        delays = []
        for _attempt in range(MAX_ATTEMPTS):
            before = timezone.now()
            drain()
            delivery.refresh_from_db()
            delays.append(delivery.scheduled_at - before)
            make_due_again(campaign)
        self.assertEqual(delivery.state, Delivery.State.FAILED)
        self.assertEqual(delivery.attempts, MAX_ATTEMPTS)
        self.assertIn("452 4.2.2 Over quota", delivery.last_error)
        for delay, expected in zip(delays, RETRY_DELAYS, strict=False):
            self.assertGreaterEqual(delay, expected)
            self.assertLess(delay, expected + datetime.timedelta(seconds=30))

    def test_a_5xx_reply_fails_the_delivery_with_the_servers_reply_and_others_go_on(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        unknown = campaign.deliveries.order_by("pk")[1]
        self.server.refuse(unknown.email, "550 5.1.1 User unknown")
        drain()
        unknown.refresh_from_db()
        self.assertEqual(unknown.state, Delivery.State.FAILED)
        self.assertIn("550 5.1.1 User unknown", unknown.last_error)
        self.assertEqual(len(self.server.received), 2)
        campaign.refresh_from_db()
        self.assertEqual(campaign.state, Campaign.State.RUNNING)

    def test_an_unreachable_server_puts_the_whole_batch_back_for_a_retry(self):
        campaign = make_due_campaign(self.ward_a, port=free_port(), recipients=3)
        self.assertTrue(send_due_deliveries(stop=threading.Event()))
        for delivery in campaign.deliveries.all():
            self.assertEqual((delivery.state, delivery.attempts), (Delivery.State.QUEUED, 1))
            self.assertIn("接続できません", delivery.last_error)
            self.assertGreater(delivery.scheduled_at, timezone.now())

    def test_a_421_reply_retries_the_mail_and_reconnects_for_the_next(self):
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=3)
        closing = campaign.deliveries.order_by("pk").first()
        self.server.refuse(closing.email, "421 4.3.2 Service shutting down", times=1)
        drain()
        closing.refresh_from_db()
        self.assertEqual((closing.state, closing.attempts), (Delivery.State.QUEUED, 1))
        self.assertIn("接続を終了しました", closing.last_error)
        self.assertEqual(len(self.server.received), 2)

    def test_a_template_that_cannot_render_fails_only_its_delivery(self):
        broken = make_scenario(self.ward_a, "壊れたシナリオ", text_body="{{ person_name.__class__ }}")
        campaign = make_due_campaign(self.ward_a, port=self.server.port, recipients=2, scenario=broken)
        drain()
        for delivery in campaign.deliveries.all():
            self.assertEqual(delivery.state, Delivery.State.FAILED)
            self.assertIn("本文（テキスト）", delivery.last_error)
        self.assertEqual(self.server.received, [])
