"""The demo's mail catcher: a real SMTP conversation in, decoded Japanese out, untrusted HTML kept inert."""

import smtplib
import socket
import tempfile
import urllib.error
import urllib.request
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path

from django.test import SimpleTestCase

from mamori.lib.mailcatcher import MailCatcher, MailStore, parse_mail, render_mail


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback test server)
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def japanese_drill_mail() -> MIMEMultipart:
    """Shaped like mail from a Japanese client: ISO-2022-JP headers and text, an HTML alternative."""
    message = MIMEMultipart("alternative")
    message["Subject"] = Header("【至急】給与明細の確認のお願い", "iso-2022-jp")
    message["From"] = str(Header("人事課 給与係", "iso-2022-jp")) + " <kyuyo@demo-ku.example.jp>"
    message["To"] = "sato.taro@demo-ku.example.jp"
    message["Date"] = formatdate(localtime=False)
    message.attach(MIMEText("本日中に下記より確認してください。\n", "plain", "iso-2022-jp"))
    message.attach(
        MIMEText('<p>確認は<a href="http://lure.invalid/">こちら</a></p><script>alert(1)</script>', "html", "utf-8")
    )
    return message


class MailCatcherTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.TemporaryDirectory()
        cls.addClassCleanup(directory.cleanup)
        cls.catcher = MailCatcher(MailStore(Path(directory.name)), smtp_port=free_port(), http_port=free_port())
        cls.catcher.start()
        cls.addClassCleanup(cls.catcher.stop)
        with smtplib.SMTP("127.0.0.1", cls.catcher.smtp_port, timeout=10) as smtp:
            smtp.sendmail(
                "kyuyo@demo-ku.example.jp",
                ["sato.taro@demo-ku.example.jp", "hidden@demo-ku.example.jp"],
                japanese_drill_mail().as_bytes(),
            )
        cls.mail_id = cls.catcher.store.ids()[0]

    def test_the_list_shows_the_decoded_japanese_subject_and_sender(self):
        status, headers, page = fetch(self.catcher.http_url)
        self.assertEqual(status, 200)
        self.assertIn("【至急】給与明細の確認のお願い", page)
        self.assertIn("人事課 給与係", page)
        self.assertIn(f"/mail/{self.mail_id}", page)
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])

    def test_a_mail_page_shows_its_text_and_escapes_everything(self):
        status, _, page = fetch(f"{self.catcher.http_url}mail/{self.mail_id}")
        self.assertEqual(status, 200)
        self.assertIn("本日中に下記より確認してください。", page)
        self.assertIn("hidden@demo-ku.example.jp", page)  # the envelope shows Bcc-like recipients
        self.assertNotIn("<script>", page)
        self.assertIn(f'<iframe sandbox="" src="/mail/{self.mail_id}/html"', page)

    def test_the_html_body_is_served_sandboxed_without_outside_loads(self):
        status, headers, body = fetch(f"{self.catcher.http_url}mail/{self.mail_id}/html")
        self.assertEqual(status, 200)
        self.assertIn("確認は", body)
        self.assertTrue(headers["Content-Security-Policy"].startswith("sandbox;"))
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])

    def test_the_raw_message_is_plain_text(self):
        status, headers, body = fetch(f"{self.catcher.http_url}mail/{self.mail_id}/raw")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        self.assertIn("=?iso-2022-jp?", body)

    def test_unknown_or_malformed_ids_are_not_found(self):
        for path in ["mail/1234567890123456789-deadbeef", "mail/..%2f..%2fetc%2fpasswd", "nothing-here"]:
            with self.subTest(path=path):
                self.assertEqual(fetch(self.catcher.http_url + path)[0], 404)


class ParseMailTests(SimpleTestCase):
    def test_an_unknown_charset_falls_back_to_utf8(self):
        raw = (
            "Subject: =?x-unknown?B?dGVzdA==?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n本文\r\n"
        ).encode()
        mail = parse_mail("1700000000000000000-0123abcd", raw)
        self.assertIn("本文", mail.text)
        self.assertIsNone(mail.html)

    def test_attachments_are_listed_by_name_and_never_served(self):
        message = EmailMessage()
        message["Subject"] = "請求書送付のご案内"
        message.set_content("添付をご確認ください。")
        message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="請求書<1>.exe")
        mail = parse_mail("1700000000000000000-0123abcd", message.as_bytes())
        self.assertEqual([(item.filename, item.size) for item in mail.attachments], [("請求書<1>.exe", 4)])
        page = render_mail(mail)
        self.assertIn("請求書&lt;1&gt;.exe", page)
        self.assertNotIn("請求書<1>", page)
