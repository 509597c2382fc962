import hashlib
from unittest import mock

from mamori.core.tests.base import BaseTestCase
from mamori.reporting.actions import PARSER_FAILED, ingest_message
from mamori.reporting.models import OriginalMessage, Report
from mamori.reporting.tests.reported_mail import forward, suspicious_mail

Channel = Report.Channel


class IngestTests(BaseTestCase):
    def test_it_files_a_real_report_for_triage_with_its_indicators(self):
        raw = forward(
            suspicious_mail(
                subject="【至急】パスワードの有効期限",
                reply_to="collector@other-domain.example",
                attachment=("請求書.zip", b"PK\x05\x06" + b"\x00" * 18),
            ),
            by="yamada@city-a.lg.jp",
        )

        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX)

        report.refresh_from_db()
        self.assertEqual(report.state, Report.State.TRIAGE)
        self.assertEqual(report.reporter, self.person_a)
        self.assertEqual(report.forwarded_as, Report.ForwardedAs.ATTACHMENT)
        self.assertEqual(report.subject, "【至急】パスワードの有効期限")
        self.assertEqual(report.from_address, "support@evil-login.example")
        self.assertIn("https://evil-login.example/verify", report.urls)
        self.assertIn("evil-login.example", report.domains)
        self.assertIn("reply-to", report.headers["mismatches"])
        self.assertEqual(report.attachments[0]["name"], "請求書.zip")
        self.assertEqual(len(report.attachments[0]["sha256"]), 64)
        self.assertIsNotNone(report.cluster)

    def test_it_keeps_the_original_bytes_exactly(self):
        raw = forward(suspicious_mail(), by="yamada@city-a.lg.jp")

        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX)

        original = OriginalMessage.objects.get(report=report)
        self.assertEqual(bytes(original.content), raw)
        self.assertEqual(original.sha256, hashlib.sha256(raw).hexdigest())
        self.assertEqual(original.size, len(raw))

    def test_it_keeps_a_report_for_a_person_when_the_parser_fails(self):
        raw = forward(suspicious_mail(), by="yamada@city-a.lg.jp")

        with (
            mock.patch("mamori.reporting.actions.parse_report", side_effect=RuntimeError("parser bug")),
            self.assertLogs("mamori.reporting.actions", "ERROR"),
        ):
            report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX, reporter_email="yamada@city-a.lg.jp")

        report.refresh_from_db()
        self.assertEqual(report.state, Report.State.NEEDS_ATTENTION)
        self.assertEqual(report.problems, [PARSER_FAILED])
        self.assertEqual(report.reporter, self.person_a)
        self.assertEqual(bytes(report.original.content), raw)

    def test_it_never_crashes_on_garbage_and_keeps_it(self):
        for raw in (
            b"",
            b"\x00\xff\xfe" * 1000,
            b"Content-Type: multipart/mixed\r\n\r\n--",
            "件名だけ".encode("cp932"),
        ):
            with self.subTest(raw=raw[:20]):
                report = ingest_message(self.ward_a, raw, channel=Channel.COMMAND)

                self.assertEqual(bytes(OriginalMessage.objects.get(report=report).content), raw)

    def test_the_stated_reporter_wins_over_the_envelope_sender(self):
        raw = suspicious_mail().as_bytes()

        report = ingest_message(self.ward_a, raw, channel=Channel.API, reporter_email=" YAMADA@city-a.lg.jp ")

        self.assertEqual(report.reporter_email, "yamada@city-a.lg.jp")
        self.assertEqual(report.reporter, self.person_a)

    def test_it_does_not_take_a_reporter_from_another_ward(self):
        raw = forward(suspicious_mail(), by="suzuki@city-b.lg.jp")

        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX)

        self.assertEqual(report.reporter_email, "suzuki@city-b.lg.jp")
        self.assertIsNone(report.reporter)
        self.assertEqual(report.thanks, "")

    def test_it_stores_attacker_text_with_nul_characters(self):
        raw = forward(suspicious_mail(subject="請求書\x00のご確認"), by="yamada@city-a.lg.jp")

        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX)

        report.refresh_from_db()
        self.assertEqual(report.state, Report.State.TRIAGE)
        self.assertNotIn("\x00", report.subject)
