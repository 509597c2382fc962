"""Finding the reported message inside a forward, for each client's way of forwarding."""

import datetime
import unittest
from pathlib import Path

from mamori.lib.mailparse import FORWARDED_AS_ATTACHMENT, FORWARDED_AS_INLINE, FORWARDED_AS_NONE, parse_report
from mamori.lib.tests import mails

SENT = datetime.datetime(2026, 11, 24, 9, 58, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))


class InlineForwardTests(unittest.TestCase):
    def assert_reported_original(self, parsed) -> None:
        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_INLINE)
        self.assertEqual(parsed.reported.subject, mails.PHISH_SUBJECT)
        self.assertEqual(parsed.reported.from_, mails.PHISH_FROM)
        self.assertEqual(parsed.reported.date, SENT)
        self.assertEqual(parsed.reported.to, [mails.REPORTER])
        self.assertIn(mails.drill_url(), parsed.reported.urls)
        self.assertEqual(parsed.problems, [])

    def test_it_reads_every_clients_inline_forward_in_each_charset(self):
        for client in ("outlook", "thunderbird", "gmail"):
            for language in ("ja", "en"):
                for charset in ("iso-2022-jp", "shift_jis", "utf-8"):
                    for html in (True, False):
                        with self.subTest(client=client, language=language, charset=charset, html=html):
                            raw = mails.forward_inline(client=client, language=language, charset=charset, html=html)
                            self.assert_reported_original(parse_report(raw))

    def test_it_keeps_the_forwarders_own_links_out_of_the_reported_message(self):
        parsed = parse_report(mails.forward_inline())

        self.assertNotIn("https://www.city.example.lg.jp/", parsed.reported.urls)
        self.assertEqual(parsed.envelope.from_, mails.REPORTER)
        self.assertEqual(parsed.envelope.from_name, "山田 太郎")

    def test_it_takes_link_targets_from_the_html_part(self):
        parsed = parse_report(mails.forward_inline(client="gmail"))

        self.assertIn(mails.drill_url("o") + ".gif", parsed.reported.urls)
        self.assertIn(mails.drill_url("x"), parsed.reported.urls)

    def test_it_gives_the_forwards_attachments_to_the_reported_message(self):
        parsed = parse_report(mails.forward_inline(attachments=[("請求書.pdf", b"%PDF-1.7 test")]))

        self.assertEqual([attachment.name for attachment in parsed.reported.attachments], ["請求書.pdf"])

    def test_it_reads_an_apple_mail_forward(self):
        text = (
            "見てください\n\nBegin forwarded message:\n\nFrom: Support <support@evil-bank.example>\n"
            "Subject: 確認\nDate: 24 November 2026 at 9:58:00 JST\nTo: yamada@city.example.lg.jp\n\n"
            "https://evil-bank.example/login\n"
        )
        parsed = parse_report(plain_report(text))

        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_INLINE)
        self.assertEqual(parsed.reported.subject, "確認")
        self.assertEqual(parsed.reported.urls, ["https://evil-bank.example/login"])

    def test_it_unquotes_a_forward_quoted_with_angle_brackets(self):
        text = (
            "-------- Original Message --------\n> From: Support <support@evil-bank.example>\n> Subject: 確認\n"
            "> Date: Tue, 24 Nov 2026 09:58:00 +0900\n> To: yamada@city.example.lg.jp\n>\n> https://evil-bank.example/x\n"
        )
        parsed = parse_report(plain_report(text))

        self.assertEqual(parsed.reported.from_, "support@evil-bank.example")
        self.assertEqual(parsed.reported.date, SENT)

    def test_it_reads_an_outlook_from_line_with_a_mailto_address(self):
        text = (
            "From: Support Center [mailto:support@evil-bank.example]\nSent: Tuesday, November 24, 2026 9:58 AM\n"
            "To: Yamada\nSubject: 確認\n\nbody\n"
        )
        parsed = parse_report(plain_report(text))

        self.assertEqual(parsed.reported.from_, "support@evil-bank.example")
        self.assertEqual(parsed.reported.from_name, "Support Center")
        self.assertEqual(parsed.reported.date, SENT)


class AttachedForwardTests(unittest.TestCase):
    def test_it_takes_the_attached_message_as_the_reported_one(self):
        for client in ("outlook", "thunderbird", "gmail"):
            with self.subTest(client=client):
                parsed = parse_report(mails.forward_as_attachment(mails.original(), client=client))

                self.assertEqual(parsed.forwarded_as, FORWARDED_AS_ATTACHMENT)
                self.assertEqual(parsed.reported.subject, mails.PHISH_SUBJECT)
                self.assertEqual(parsed.reported.message_id, "<20261124095800.1234@evil-bank.example>")
                self.assertEqual(parsed.reported.return_path, "bounce@mailer.evil-bank.example")
                self.assertEqual(parsed.envelope.from_, mails.REPORTER)
                self.assertEqual(parsed.problems, [])

    def test_it_reads_an_eml_file_attached_as_octet_stream(self):
        from email.mime.application import MIMEApplication
        from email.mime.multipart import MIMEMultipart

        forward = MIMEMultipart()
        part = MIMEApplication(mails.original())
        part.add_header("Content-Disposition", "attachment", filename="suspicious.eml")
        forward.attach(part)
        parsed = parse_report(mails.envelope(forward, "FW: 不審"))

        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_ATTACHMENT)
        self.assertEqual(parsed.reported.from_, mails.PHISH_FROM)

    def test_it_flags_several_attached_messages_and_reports_the_first(self):
        from email.mime.message import MIMEMessage
        from email.mime.multipart import MIMEMultipart
        from email.parser import BytesParser
        from email.policy import compat32

        forward = MIMEMultipart()
        for subject in ("一通目", "二通目"):
            forward.attach(MIMEMessage(BytesParser(policy=compat32).parsebytes(mails.original(subject=subject))))
        parsed = parse_report(mails.envelope(forward, "FW: 二通"))

        self.assertEqual(parsed.reported.subject, "一通目")
        self.assertIn("several-attached-messages", parsed.problems)


class DirectReportTests(unittest.TestCase):
    def test_it_takes_a_plain_message_as_the_reported_one(self):
        parsed = parse_report(mails.original())

        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_NONE)
        self.assertEqual(parsed.reported.from_, mails.PHISH_FROM)
        self.assertEqual(parsed.reported.from_name, "サポートセンター")
        self.assertTrue(parsed.reported.text_excerpt.startswith("いつもご利用ありがとうございます。"))

    def test_it_does_not_mistake_a_from_line_in_prose_for_a_forward(self):
        parsed = parse_report(plain_report("From: 総務課の田中です。\n件名の件、承知しました。\n"))

        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_NONE)

    def test_it_marks_an_auto_reply_as_automatic(self):
        raw = plain_report("不在です", extra="Auto-Submitted: auto-replied\r\n")

        self.assertTrue(parse_report(raw).envelope.is_automatic)
        self.assertFalse(parse_report(plain_report("報告します")).envelope.is_automatic)


def plain_report(text: str, extra: str = "") -> bytes:
    head = (
        f"From: {mails.REPORTER}\r\nTo: {mails.REPORT_ADDRESS}\r\nSubject: FW: test\r\n"
        "Date: Tue, 24 Nov 2026 10:03:00 +0900\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n'
    )
    return (head + extra + "\r\n" + text.replace("\n", "\r\n")).encode("utf-8")


class NestedForwardTests(unittest.TestCase):
    def test_it_reports_the_innermost_of_an_inline_forward_of_a_forward(self):
        text = (
            "見てください\n\n-----Original Message-----\nFrom: 同僚 <colleague@city.example.lg.jp>\n"
            "Sent: Tuesday, November 24, 2026 10:00 AM\nTo: Yamada\nSubject: FW: 確認\n\n変なメールです\n\n"
            "-----Original Message-----\nFrom: Support <support@evil-bank.example>\n"
            "Sent: Tuesday, November 24, 2026 9:58 AM\nTo: Colleague\nSubject: 確認\n\nhttps://evil-bank.example/x\n"
        )
        parsed = parse_report(plain_report(text))

        self.assertEqual(parsed.reported.from_, "support@evil-bank.example")
        self.assertEqual(parsed.reported.subject, "確認")

    def test_it_reports_the_message_attached_to_an_attached_forward(self):
        colleague_forward = mails.forward_as_attachment(mails.original(), note="")
        parsed = parse_report(mails.forward_as_attachment(colleague_forward))

        self.assertEqual(parsed.reported.from_, mails.PHISH_FROM)
        self.assertIn(mails.drill_url(), parsed.reported.urls)

    def test_it_decodes_an_attached_message_that_was_base64_encoded(self):
        corpus = Path(__file__).parent / "nasty" / "rfc822-in-base64.eml"

        parsed = parse_report(corpus.read_bytes())

        self.assertEqual(parsed.forwarded_as, FORWARDED_AS_ATTACHMENT)
        self.assertEqual(parsed.reported.from_, "support@evil.example")
        self.assertIn("malformed-mime", parsed.problems)

    def test_it_keeps_links_of_the_reporters_own_text_apart(self):
        raw = mails.forward_as_attachment(
            mails.original(url="https://evil.example/"), note=f"このリンクを開いてしまいました {mails.drill_url()}"
        )
        parsed = parse_report(raw)

        self.assertEqual(parsed.envelope.urls, [mails.drill_url()])
        self.assertNotIn(mails.drill_url(), parsed.reported.urls)

    def test_it_reads_an_apple_mail_body_split_around_an_image(self):
        from email.mime.image import MIMEImage
        from email.mime.multipart import MIMEMultipart
        from email.mime.text import MIMEText

        body = MIMEMultipart("mixed")
        body.attach(MIMEText("Begin forwarded message:\n\nFrom: a@evil.example\nSubject: x\nDate: y\n\n", "plain"))
        body.attach(MIMEImage(b"GIF89a", "gif"))
        body.attach(MIMEText("https://evil.example/after-image\n", "plain"))
        parsed = parse_report(mails.envelope(body, "Fwd: x"))

        self.assertEqual(parsed.reported.urls, ["https://evil.example/after-image"])
