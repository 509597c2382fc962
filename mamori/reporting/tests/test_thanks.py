import datetime
import smtplib
from email.header import decode_header, make_header
from unittest import mock

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.drills.tests.smtp_server import SMTPTestServer
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting import mail as reporting_mail
from mamori.reporting.actions import ingest_message
from mamori.reporting.models import Report
from mamori.reporting.tests.reported_mail import drill_mail, forward, suspicious_mail

Channel = Report.Channel


def smtp_mailers(port: int) -> dict:
    options = {"host": "127.0.0.1", "port": port, "timeout": 5}
    return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}


class ThanksTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.sent_at = timezone.now() - datetime.timedelta(minutes=30)
        cls.delivery = make_sent_delivery(make_running_campaign(cls.ward_a), cls.person_a, sent_at=cls.sent_at)

    def ingest(self, mail_message, by: str = "yamada@city-a.lg.jp", **options) -> Report:
        return ingest_message(self.ward_a, forward(mail_message, by=by), channel=Channel.MAILBOX, **options)

    def test_a_real_smtp_server_receives_the_drill_thanks(self):
        with SMTPTestServer() as server, override_settings(MAILERS=smtp_mailers(server.port)):
            report = self.ingest(drill_mail(self.delivery), received_at=self.sent_at + datetime.timedelta(minutes=7))

            self.assertTrue(server.wait_for(1, timeout=5))
        received = server.received[0]
        message = received.message
        self.assertEqual(received.rcpt_tos, ["yamada@city-a.lg.jp"])
        self.assertIn("訓練メールでした", str(make_header(decode_header(message["Subject"]))))
        self.assertEqual(message["Auto-Submitted"], "auto-replied")
        self.assertEqual(message["In-Reply-To"], report.envelope_message_id)
        text = message.get_body(("plain",)).get_content()
        self.assertIn("山田 太郎 様", text)
        self.assertIn("訓練のメールでした", text)
        self.assertIn("およそ 7 分", text)
        self.assertIn("訓練のメールでした", message.get_body(("html",)).get_content())
        report.refresh_from_db()
        self.assertEqual(report.thanks, Report.Thanks.DRILL)
        self.assertIsNotNone(report.thanked_at)

    def test_a_report_after_a_click_is_thanked_just_as_warmly(self):
        self.delivery.first_clicked_at = self.sent_at + datetime.timedelta(minutes=1)
        self.delivery.save(update_fields=["first_clicked_at"])

        self.ingest(drill_mail(self.delivery), received_at=self.sent_at + datetime.timedelta(minutes=4))

        message = mail.outbox[-1]
        self.assertIn("ご報告ありがとうございました", message.subject)
        self.assertIn("隠さずにすぐ報告していただいたこと", message.body)
        self.assertIn("何よりも大切な行動", message.body)
        self.assertIn("開いてからおよそ 3 分", message.body)
        self.assertNotIn("失敗", message.body)

    def test_a_real_report_is_thanked_and_told_the_csirt_will_look(self):
        self.ward_a.report_contact = "情報政策課（内線 1234）"
        self.ward_a.save()

        self.ingest(suspicious_mail())

        message = mail.outbox[-1]
        self.assertEqual(message.to, ["yamada@city-a.lg.jp"])
        self.assertIn("担当者が確認します", message.subject)
        self.assertIn("CSIRT", message.body)
        self.assertIn("パソコンを再起動・シャットダウンしない", message.body)
        self.assertIn("情報政策課（内線 1234）", message.body)

    def test_it_does_not_answer_an_automatic_mail(self):
        report_mail = forward(suspicious_mail(), by="yamada@city-a.lg.jp")
        raw = b"Auto-Submitted: auto-replied\r\n" + report_mail

        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX)

        self.assertEqual(mail.outbox, [])
        self.assertEqual(report.state, Report.State.TRIAGE)

    def test_it_thanks_only_staff_on_the_roster(self):
        self.ingest(suspicious_mail(), by="outsider@example.com")

        self.assertEqual(mail.outbox, [])

    def test_a_mail_server_outage_loses_no_report(self):
        with SMTPTestServer() as server, override_settings(MAILERS=smtp_mailers(server.port)):
            server.refuse("yamada@city-a.lg.jp", "550 5.1.1 No such user")

            with self.assertLogs("mamori.reporting.actions", "WARNING"):
                report = self.ingest(drill_mail(self.delivery))

        report.refresh_from_db()
        self.assertEqual(report.state, Report.State.DRILL)
        self.assertEqual(report.thanks, Report.Thanks.DRILL)
        self.assertIsNone(report.thanked_at)
        self.assertIn("550", report.thanks_error)


class SharedConnectionTests(BaseTestCase):
    """The report mailbox thanks a whole batch over one SMTP connection (a connection per mail was its
    slowest step), and a connection the server dropped meanwhile costs no thanks."""

    def ingest(self, subject: str) -> Report:
        return ingest_message(
            self.ward_a, forward(suspicious_mail(subject=subject), by=self.person_a.email), channel=Channel.MAILBOX
        )

    def test_a_batch_of_thanks_travels_over_one_connection(self):
        connect = smtplib.SMTP.connect
        with (
            SMTPTestServer() as server,
            override_settings(MAILERS=smtp_mailers(server.port)),
            mock.patch.object(smtplib.SMTP, "connect", autospec=True, side_effect=connect) as connecting,
        ):
            with reporting_mail.shared_connection():
                reports = [self.ingest(f"請求書のご確認 {number}") for number in range(3)]

            self.assertTrue(server.wait_for(3, timeout=5))
        self.assertEqual(connecting.call_count, 1)
        for report in reports:
            report.refresh_from_db()
            self.assertIsNotNone(report.thanked_at)

    def test_a_dropped_connection_is_opened_again_and_the_thanks_still_sent(self):
        with SMTPTestServer() as server, override_settings(MAILERS=smtp_mailers(server.port)):
            with reporting_mail.shared_connection():
                self.ingest("請求書のご確認 1")
                # The server hangs up between two reports (idle timeout, per-connection limit).
                reporting_mail._shared_mailer.get().connection.sock.close()
                report = self.ingest("請求書のご確認 2")

            self.assertTrue(server.wait_for(2, timeout=5))
        report.refresh_from_db()
        self.assertIsNotNone(report.thanked_at)
        self.assertEqual(report.thanks_error, "")

    def test_a_refused_thanks_is_recorded_and_the_next_one_still_goes_out(self):
        with SMTPTestServer() as server, override_settings(MAILERS=smtp_mailers(server.port)):
            server.refuse(self.person_a.email, "550 5.1.1 mailbox unavailable", times=1)
            with reporting_mail.shared_connection():
                refused = self.ingest("請求書のご確認 1")
                thanked = self.ingest("請求書のご確認 2")

            self.assertTrue(server.wait_for(1, timeout=5))
        refused.refresh_from_db()
        thanked.refresh_from_db()
        self.assertIsNone(refused.thanked_at)
        self.assertIn("550", refused.thanks_error)
        self.assertIsNotNone(thanked.thanked_at)
