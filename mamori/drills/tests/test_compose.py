"""The MIME messages the sender builds, parsed back with the standard library as a mail client would."""

import datetime
from email import policy
from email.parser import BytesParser

from django.test import SimpleTestCase

from mamori.drills.models import SendingProfile
from mamori.drills.rendering import RenderedMail
from mamori.drills.sender.compose import DRILL_HEADER, InvalidExtraHeader, compose_mail

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TOKEN = "AbCdEfGhIjKlMnOpQrStUv"
LINK = f"https://drill.example.jp/c/{TOKEN}"


def rendered(**fields) -> RenderedMail:
    values = {
        "subject": "【総務課】令和8年12月1日付け通達の件（要返信）",
        "text": f"山田 太郎 様\n\n通達を確認してください。\n{LINK}\n",
        "sender_name": "総務課 文書係",
        "sender_address": "soumu@example-lookalike.jp",
    }
    values.update(fields)
    return RenderedMail(**values)


def profile(**fields) -> SendingProfile:
    return SendingProfile(**{"charset": SendingProfile.Charset.UTF8, "extra_headers": [], **fields})


def compose(mail: RenderedMail | None = None, **profile_fields):
    return compose_mail(
        mail or rendered(), recipient="yamada@city-a.lg.jp", profile=profile(**profile_fields), token=TOKEN
    )


def parse(content: bytes):
    return BytesParser(policy=policy.default).parsebytes(content)


class StructureTests(SimpleTestCase):
    def test_a_text_only_mail_is_one_text_part(self):
        message = parse(compose().content)
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertIn(LINK, message.get_content())
        self.assertEqual(message["MIME-Version"], "1.0")

    def test_html_makes_multipart_alternative_with_the_text_first(self):
        message = parse(compose(rendered(html=f'<p>山田 様</p><a href="{LINK}">確認</a>')).content)
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        self.assertEqual([part.get_content_type() for part in message.iter_parts()], ["text/plain", "text/html"])
        self.assertIn(LINK, message.get_body(preferencelist=("html",)).get_content())

    def test_an_inline_qr_image_makes_the_html_multipart_related(self):
        mail = rendered(html='<img src="cid:qr.1@mamori">', inline_images=[("qr.1@mamori", PNG)])
        message = parse(compose(mail).content)
        related = message.get_payload()[1]
        self.assertEqual(related.get_content_type(), "multipart/related")
        html, image = related.get_payload()
        self.assertEqual(html.get_content_type(), "text/html")
        self.assertEqual(image["Content-ID"], "<qr.1@mamori>")
        self.assertEqual(image.get_content(), PNG)

    def test_an_attachment_makes_multipart_mixed_with_its_japanese_file_name(self):
        mail = rendered(
            html="<p>請求書</p>", attachments=[("請求書（11月分）.pdf", b"%PDF-1.4 test", "application/pdf")]
        )
        message = parse(compose(mail).content)
        self.assertEqual(message.get_content_type(), "multipart/mixed")
        body, document = message.get_payload()
        self.assertEqual(body.get_content_type(), "multipart/alternative")
        self.assertEqual(document.get_filename(), "請求書（11月分）.pdf")
        self.assertEqual(document.get_content(), b"%PDF-1.4 test")
        self.assertEqual(document.get_content_disposition(), "attachment")

    def test_only_the_top_level_carries_mime_version(self):
        message = parse(compose(rendered(html="<p>x</p>")).content)
        self.assertEqual([part["MIME-Version"] for part in message.iter_parts()], [None, None])

    def test_a_line_starting_with_from_is_left_as_written_in_a_7bit_body(self):
        text = "From 総務課\n以上\n"
        message = parse(compose(rendered(text=text), charset="iso-2022-jp").content)
        self.assertEqual(message.get_content().splitlines(), text.splitlines())


class HeaderTests(SimpleTestCase):
    def test_the_subject_and_sender_decode_back_to_japanese(self):
        message = parse(compose().content)
        self.assertEqual(message["Subject"], "【総務課】令和8年12月1日付け通達の件（要返信）")
        self.assertEqual(message["From"].addresses[0].display_name, "総務課 文書係")
        self.assertEqual(message["From"].addresses[0].addr_spec, "soumu@example-lookalike.jp")

    def test_to_is_the_recipient_only(self):
        message = parse(compose().content)
        self.assertEqual(message["To"], "yamada@city-a.lg.jp")
        self.assertIsNone(message["Cc"])
        self.assertIsNone(message["Bcc"])

    def test_the_date_is_japan_time(self):
        message = parse(compose().content)
        self.assertEqual(message["Date"].datetime.utcoffset(), datetime.timedelta(hours=9))

    def test_message_ids_are_unique_and_on_the_sending_domain(self):
        ids = {compose().message_id for _mail in range(500)}
        self.assertEqual(len(ids), 500)
        self.assertTrue(all(message_id.endswith("@example-lookalike.jp>") for message_id in ids))
        forced = compose(envelope_sender="bounce@city-a.lg.jp")
        self.assertTrue(forced.message_id.endswith("@city-a.lg.jp>"))
        self.assertEqual(forced.envelope_sender, "bounce@city-a.lg.jp")
        self.assertEqual(parse(forced.content)["Message-ID"], forced.message_id)

    def test_long_headers_are_folded_within_78_characters(self):
        mail = compose(rendered(subject="Notice " * 30 + "【総務課】" * 10))
        header_block = mail.content.split(b"\r\n\r\n", 1)[0]
        self.assertTrue(all(len(line) <= 78 for line in header_block.split(b"\r\n")))
        self.assertEqual(parse(mail.content)["Subject"], "Notice " * 30 + "【総務課】" * 10)

    def test_the_drill_header_carries_the_token_only_when_the_profile_asks(self):
        self.assertIsNone(parse(compose().content)[DRILL_HEADER])
        self.assertEqual(parse(compose(token_header=True).content)[DRILL_HEADER], TOKEN)

    def test_the_profiles_extra_headers_are_added(self):
        message = parse(compose(extra_headers=[["X-Ward-Drill", "2026-q2"], ["X-Gateway-Allow", "yes"]]).content)
        self.assertEqual((message["X-Ward-Drill"], message["X-Gateway-Allow"]), ("2026-q2", "yes"))

    def test_a_profile_header_that_overrides_or_injects_is_refused(self):
        for headers in ([["Subject", "x"]], [["X-Note", "a\r\nBcc: outsider@example.com"]], [["To", "x@y"]]):
            with self.subTest(headers=headers), self.assertRaises(InvalidExtraHeader):
                compose(extra_headers=headers)


class CharsetTests(SimpleTestCase):
    def test_iso_2022_jp_sends_jis_encoded_words_and_a_7bit_jis_body(self):
        mail = compose(rendered(html="<p>山田 様</p>"), charset="iso-2022-jp")
        self.assertEqual(mail.charset, "iso-2022-jp")
        self.assertIn(b"Subject: =?iso-2022-jp?b?", mail.content)
        self.assertIn(b"\x1b$B", mail.content)  # JIS X 0208 escape, unencoded in a 7bit body
        message = parse(mail.content)
        self.assertEqual(message["Subject"], "【総務課】令和8年12月1日付け通達の件（要返信）")
        text, html = message.iter_parts()
        self.assertEqual((text.get_content_charset(), text["Content-Transfer-Encoding"]), ("iso-2022-jp", "7bit"))
        # A 7bit part keeps the wire's CRLF when parsed; a mail client shows the same lines.
        self.assertEqual(text.get_content().splitlines(), rendered().text.splitlines())
        self.assertEqual(html.get_content().splitlines(), ["<p>山田 様</p>"])

    def test_utf8_bodies_go_as_base64(self):
        message = parse(compose().content)
        self.assertEqual((message.get_content_charset(), message["Content-Transfer-Encoding"]), ("utf-8", "base64"))

    def test_characters_outside_jis_x_0208_send_that_mail_in_utf8_and_log_it(self):
        for mail in (rendered(subject="①月次報告"), rendered(text="髙橋 様\n"), rendered(sender_name="総務課～")):
            with self.subTest(mail=mail), self.assertLogs("mamori.drills.sender.compose", "WARNING") as logs:
                composed = compose(mail, charset="iso-2022-jp")
            self.assertEqual(composed.charset, "utf-8")
            self.assertIn("not in ISO-2022-JP", logs.output[0])
            message = parse(composed.content)
            self.assertEqual(message["Subject"], mail.subject)
            self.assertEqual(message.get_content(), mail.text)
            self.assertEqual(message["From"].addresses[0].display_name, mail.sender_name)

    def test_an_over_long_jis_line_goes_as_base64_instead_of_being_broken(self):
        html = "<p>" + "お知らせ" * 200 + "</p>"
        message = parse(compose(rendered(html=html), charset="iso-2022-jp").content)
        part = message.get_body(preferencelist=("html",))
        self.assertEqual((part.get_content_charset(), part["Content-Transfer-Encoding"]), ("iso-2022-jp", "base64"))
        self.assertEqual(part.get_content(), html)
