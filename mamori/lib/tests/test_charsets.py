"""Japanese charsets, labeled right, labeled wrong, or not labeled at all."""

import base64
import unittest

from mamori.lib.mailparse import CHARSET_GUESSED, parse_report
from mamori.lib.mailparse.charsets import Decoded, decode_bytes, decode_header, jis_via_cp932


def windows_iso_2022_jp(text: str) -> bytes:
    """ISO-2022-JP as Outlook writes it (CP50220): NEC special characters such as ① included."""
    out = bytearray()
    for character in text:
        encoded = character.encode("cp932")
        if len(encoded) == 1:
            out += b"\x1b(B" + encoded
            continue
        lead, trail = encoded
        row = ((lead - (0x70 if lead < 0xA0 else 0xB0)) << 1) - (1 if trail < 0x9F else 0)
        cell = trail - (0x1F if trail < 0x7F else 0x20) if trail < 0x9F else trail - 0x7E
        out += b"\x1b$B" + bytes((row, cell))
    return bytes(out + b"\x1b(B")


def mail(headers: str, body: bytes, content_type: str) -> bytes:
    return (
        f"From: a@example.jp\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\n{headers}MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body


class BodyCharsetTests(unittest.TestCase):
    def test_it_decodes_each_japanese_charset_when_labeled(self):
        for label, codec, text in (
            ("iso-2022-jp", "iso2022_jp", "本人確認のお願い"),
            ("shift_jis", "cp932", "本人確認のお願い ～ 髙橋"),
            ("euc-jp", "euc_jp", "本人確認のお願い"),
            ("utf-8", "utf-8", "本人確認のお願い ～ 髙橋 🙇"),
        ):
            with self.subTest(label=label):
                self.assertEqual(decode_bytes(text.encode(codec), label), Decoded(text))

    def test_it_decodes_nec_special_characters_in_iso_2022_jp(self):
        decoded = decode_bytes(windows_iso_2022_jp("①㈱№ 確認"), "ISO-2022-JP")

        self.assertEqual(decoded.text, "①㈱№ 確認")
        self.assertFalse(decoded.lossy)

    def test_it_reads_shift_jis_with_windows_characters_as_cp932(self):
        self.assertEqual(decode_bytes("①～".encode("cp932"), "Shift_JIS").text, "①～")

    def test_it_guesses_unlabeled_and_mislabeled_japanese(self):
        text = "重要なお知らせです。パスワードを変更してください。"
        for codec in ("cp932", "euc_jp", "utf-8"):
            for label in (None, "iso-8859-1", "us-ascii"):
                with self.subTest(codec=codec, label=label):
                    decoded = decode_bytes(text.encode(codec), label)
                    self.assertEqual(decoded.text, text)
                    self.assertTrue(decoded.guessed)

    def test_it_guesses_when_utf_8_is_claimed_but_shift_jis_is_sent(self):
        self.assertEqual(decode_bytes("請求書の送付".encode("cp932"), "utf-8").text, "請求書の送付")

    def test_it_replaces_what_fits_no_charset_and_says_so(self):
        decoded = decode_bytes(b"\x81\xff\xfe\x80abc", "utf-8")

        self.assertTrue(decoded.lossy)
        self.assertIn("abc", decoded.text)

    def test_it_survives_an_unknown_charset_label(self):
        self.assertEqual(decode_bytes("テスト".encode(), "x-unknown-charset").text, "テスト")

    def test_it_ends_a_jis_run_at_the_line_end_when_the_escape_is_missing(self):
        text, lossy = jis_via_cp932(b'\x1b$B$"\nabc')

        self.assertEqual(text, "あ\nabc")
        self.assertFalse(lossy)

    def test_it_flags_a_guessed_body_charset_in_the_report(self):
        raw = mail("Subject: x\r\n", "至急ご確認ください".encode("cp932"), "text/plain")

        parsed = parse_report(raw)

        self.assertIn("至急ご確認ください", parsed.reported.text_excerpt)
        self.assertIn(CHARSET_GUESSED, parsed.problems)


class HeaderCharsetTests(unittest.TestCase):
    def test_it_joins_an_iso_2022_jp_run_split_across_encoded_words(self):
        data = "アカウント停止のお知らせ".encode("iso2022_jp")
        half = len(data) // 2
        words = " ".join(
            f"=?ISO-2022-JP?B?{base64.b64encode(piece).decode()}?=" for piece in (data[:half], data[half:])
        )

        self.assertEqual(decode_header(words).text, "アカウント停止のお知らせ")

    def test_it_decodes_a_utf_8_character_split_across_q_words(self):
        encoded = "あ".encode()
        value = f"=?utf-8?q?={encoded[0]:02X}?= =?utf-8?q?={encoded[1]:02X}={encoded[2]:02X}?="

        self.assertEqual(decode_header(value).text, "あ")

    def test_it_keeps_text_between_encoded_words_and_drops_the_folding_space(self):
        value = "Re: =?utf-8?b?56K66KqN?=\r\n =?utf-8?b?44GX44Gm?= (2)"

        self.assertEqual(decode_header(value).text, "Re: 確認して (2)")

    def test_it_decodes_a_subject_of_raw_8bit_shift_jis(self):
        raw = mail("", b"body", "text/plain").replace(b"From:", "Subject: 請求書\r\nFrom:".encode("cp932"), 1)

        self.assertEqual(parse_report(raw).reported.subject, "請求書")

    def test_it_decodes_a_subject_of_raw_iso_2022_jp_and_raw_utf_8(self):
        for data in ("件名: 至急".encode("iso2022_jp"), "件名: 至急".encode()):
            with self.subTest(data=data):
                raw = mail("", b"body", "text/plain").replace(b"From:", b"Subject: " + data + b"\r\nFrom:", 1)
                self.assertEqual(parse_report(raw).reported.subject, "件名: 至急")

    def test_it_decodes_nec_characters_in_an_encoded_subject(self):
        word = base64.b64encode(windows_iso_2022_jp("【至急】①本人確認")).decode()
        raw = mail(f"Subject: =?ISO-2022-JP?B?{word}?=\r\n", b"body", "text/plain")

        self.assertEqual(parse_report(raw).reported.subject, "【至急】①本人確認")

    def test_it_survives_broken_base64_in_an_encoded_word(self):
        self.assertIsInstance(decode_header("=?utf-8?b?!!!*?= =?utf-8?b?4?=").text, str)
