"""Header analysis: sender disagreements, the Received chain, authentication verdicts."""

import datetime
import unittest

from mamori.lib.mailparse import DISPLAY_NAME_MISMATCH, REPLY_TO_MISMATCH, RETURN_PATH_MISMATCH, parse_report
from mamori.lib.mailparse.headers import auth_results, organization_domain, received_hop, sender_mismatches
from mamori.lib.tests import mails


class SenderMismatchTests(unittest.TestCase):
    def test_it_flags_a_reply_to_of_another_organization(self):
        parsed = parse_report(mails.original(reply_to="collect@another.example"))

        self.assertEqual(parsed.reported.mismatches, [REPLY_TO_MISMATCH])
        self.assertEqual(parsed.reported.reply_to, "collect@another.example")

    def test_it_accepts_subdomains_of_the_same_organization(self):
        self.assertEqual(sender_mismatches("a@evil-bank.example", "", "b@mail.evil-bank.example", ""), [])
        self.assertEqual(sender_mismatches("a@x.example.co.jp", "", "b@example.co.jp", ""), [])

    def test_it_tells_two_organizations_under_a_shared_suffix_apart(self):
        self.assertEqual(
            sender_mismatches("a@city.shinjuku.lg.jp", "", "", "b@city.minato.lg.jp"), [RETURN_PATH_MISMATCH]
        )
        self.assertEqual(organization_domain("mail.city.shinjuku.lg.jp"), "city.shinjuku.lg.jp")

    def test_it_flags_an_address_in_the_display_name(self):
        self.assertEqual(sender_mismatches("x@evil.example", "support@bank.co.jp", "", ""), [DISPLAY_NAME_MISMATCH])


class ReceivedTests(unittest.TestCase):
    def test_it_reads_hosts_ips_and_time_of_each_hop_topmost_first(self):
        parsed = parse_report(mails.original())

        first, second = parsed.reported.received
        self.assertEqual(
            (first.from_host, first.by_host, first.ips),
            ("mail.evil-bank.example", "mx.city.example.lg.jp", ("45.33.32.156",)),
        )
        self.assertEqual(first.date, datetime.datetime(2026, 11, 24, 0, 58, 1, tzinfo=datetime.UTC))
        self.assertEqual(second.ips, ("10.0.0.5",))
        self.assertEqual(parsed.reported.ips, ["45.33.32.156"])

    def test_it_reads_ipv6_and_survives_a_hop_without_date(self):
        hop = received_hop("from x ([IPv6:2001:4860:4860::8888]) by y with SMTP")

        self.assertEqual(hop.ips, ("2001:4860:4860::8888",))
        self.assertIsNone(hop.date)


class AuthenticationResultsTests(unittest.TestCase):
    def test_it_reads_spf_dkim_and_dmarc(self):
        results = parse_report(mails.original()).reported.auth_results

        self.assertEqual((results.spf, results.dkim, results.dmarc), ("softfail", "none", "fail"))

    def test_the_topmost_header_wins_over_a_forged_lower_one(self):
        results = auth_results(
            ["mx.ours; spf=fail smtp.mailfrom=x; dkim=fail header.d=evil.example", "forged; spf=pass dkim=pass"], []
        )

        self.assertEqual((results.spf, results.dkim, results.dmarc), ("fail", "fail", ""))
        self.assertEqual(results.dkim_domains, ("evil.example",))

    def test_it_falls_back_to_received_spf(self):
        self.assertEqual(auth_results([], ["Pass (mailfrom) identity=mailfrom;"]).spf, "pass")
