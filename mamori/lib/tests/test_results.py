"""The parsed report as plain data: what the pipeline stores and ``ingest-eml`` prints."""

import json
import unittest

from mamori.lib.mailparse import parse_report
from mamori.lib.tests import mails


class AsDictTests(unittest.TestCase):
    def test_it_gives_json_ready_data_with_iso_dates_and_lists(self):
        archive = mails.zip_of({"a.exe": b"MZ"})
        parsed = parse_report(mails.forward_as_attachment(mails.original(attachments=[("a.zip", archive)])))

        data = json.loads(json.dumps(parsed.as_dict()))

        self.assertEqual(data["forwarded_as"], "attachment")
        self.assertEqual(data["envelope"]["date"], "2026-11-24T10:03:00+09:00")
        self.assertEqual(data["reported"]["received"][0]["ips"], ["45.33.32.156"])
        self.assertEqual(data["reported"]["attachments"][0]["archive_members"], ["a.exe"])
        self.assertEqual(data["reported"]["auth_results"]["dmarc"], "fail")
        self.assertEqual(set(data), {"envelope", "reported", "forwarded_as", "problems"})
