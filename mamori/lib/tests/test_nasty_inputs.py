"""No input makes the parser raise: the corpus in ``nasty/`` and inputs too big to keep as files."""

import json
import os
import unittest
from pathlib import Path

from mamori.lib.mailparse import (
    MAX_PARTS,
    TOO_DEEP,
    TOO_LARGE,
    TOO_MANY_PARTS,
    TOO_MANY_URLS,
    UNPARSEABLE,
    ParsedReport,
    drill_tokens,
    parse_report,
)
from mamori.lib.mailparse import parse as parse_module
from mamori.lib.tests import mails

NASTY = Path(__file__).parent / "nasty"


def assert_parses(test: unittest.TestCase, raw: bytes) -> ParsedReport:
    parsed = parse_report(raw)
    test.assertIsInstance(parsed, ParsedReport)
    test.assertNotIn(UNPARSEABLE, parsed.problems)  # the catch-all hides a parser bug
    json.dumps(parsed.as_dict())
    drill_tokens(parsed)
    return parsed


def nested_multiparts(depth: int) -> bytes:
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"From: a@evil.example\r\nSubject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\nhi" + tail


class CorpusTests(unittest.TestCase):
    def test_every_mail_of_the_corpus_parses(self):
        files = sorted(NASTY.glob("*.eml"))
        self.assertGreater(len(files), 10)
        for path in files:
            with self.subTest(path=path.name):
                assert_parses(self, path.read_bytes())

    def test_empty_and_odd_inputs_parse(self):
        for raw in (
            b"",
            b"\x00" * 1000,
            b"\r\n" * 1000,
            b"\xff" * 1000,
            b":" * 10_000,
            b"From:\r\n\r\n",
            os.urandom(4096),
        ):
            with self.subTest(raw=raw[:10]):
                assert_parses(self, raw)

    def test_a_str_input_parses_too(self):
        self.assertEqual(parse_report("Subject: テスト\n\nhttps://x.example/").reported.subject, "テスト")


class LimitTests(unittest.TestCase):
    def test_ten_thousand_nested_parts_are_flagged_not_fatal(self):
        parsed = assert_parses(self, nested_multiparts(10_000))

        self.assertIn(TOO_DEEP, parsed.problems)

    def test_ten_thousand_nested_messages_are_flagged_not_fatal(self):
        raw = b"From: a@b.example\r\n" + b"Content-Type: message/rfc822\r\n\r\nSubject: x\r\n" * 10_000 + b"\r\nhi"

        self.assertIn(TOO_DEEP, assert_parses(self, raw).problems)

    def test_ten_thousand_sibling_parts_stop_at_the_part_limit(self):
        parts = b"".join(b"--x\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(10_000))
        raw = b'From: a@b.example\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n' + parts + b"--x--\r\n"

        self.assertIn(TOO_MANY_PARTS, assert_parses(self, raw).problems)
        self.assertEqual(MAX_PARTS, 1_000)

    def test_a_twenty_megabyte_attachment_is_hashed(self):
        data = os.urandom(20 * 1024 * 1024)

        parsed = assert_parses(self, mails.forward_inline(html=False, attachments=[("big.bin", data)]))

        self.assertEqual(parsed.reported.attachments[0].size, len(data))
        self.assertEqual(parsed.problems, [])

    def test_an_oversized_mail_is_read_up_to_the_limit(self):
        limit = parse_module.MAX_MESSAGE_BYTES
        try:
            parse_module.MAX_MESSAGE_BYTES = 10_000
            parsed = assert_parses(self, mails.original(attachments=[("big.bin", b"x" * 50_000)]))
        finally:
            parse_module.MAX_MESSAGE_BYTES = limit

        self.assertIn(TOO_LARGE, parsed.problems)
        self.assertEqual(parsed.reported.subject, mails.PHISH_SUBJECT)

    def test_urls_beyond_the_limit_are_dropped_and_flagged(self):
        raw = b"Subject: x\r\n\r\n" + b" ".join(b"https://h%d.example/" % i for i in range(1_500))

        parsed = assert_parses(self, raw)

        self.assertEqual(len(parsed.reported.urls), 1_000)
        self.assertIn(TOO_MANY_URLS, parsed.problems)

    def test_a_parser_bug_yields_an_unparseable_report_instead_of_an_exception(self):
        original = parse_module.ReportReader.read
        try:
            parse_module.ReportReader.read = lambda self: 1 / 0
            parsed = parse_report(mails.original())
        finally:
            parse_module.ReportReader.read = original

        self.assertEqual(parsed.problems, ["unparseable"])
        self.assertEqual(parsed.envelope.from_, mails.PHISH_FROM)
