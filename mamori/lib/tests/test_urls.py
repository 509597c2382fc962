"""URL extraction: plain, HTML, defanged, and unwrapped from link-protection rewrites."""

import unittest

from mamori.lib.mailparse import parse_report
from mamori.lib.mailparse.html import html_to_text
from mamori.lib.mailparse.urls import find_urls, host_of, refang, unwrap
from mamori.lib.tests import mails


class FindUrlsTests(unittest.TestCase):
    def test_it_stops_a_url_where_japanese_text_runs_on(self):
        self.assertEqual(
            find_urls("こちら https://evil.example/login?id=1にアクセス。"), ["https://evil.example/login?id=1"]
        )

    def test_it_drops_sentence_punctuation_and_unopened_brackets(self):
        text = "(see https://evil.example/a_(b).) and <https://evil.example/c>, 'https://evil.example/d'."

        self.assertEqual(
            find_urls(text), ["https://evil.example/a_(b)", "https://evil.example/c", "https://evil.example/d"]
        )

    def test_it_adds_a_scheme_to_www_hosts(self):
        self.assertEqual(find_urls("www.evil.example/x"), ["http://www.evil.example/x"])

    def test_it_refangs_defanged_urls(self):
        text = "hxxps://evil[.]example[.]com[:]8443/login と hXXp://bad(.)example/ と evil[dot]jp/path"

        self.assertEqual(
            sorted(find_urls(text)),
            ["http://bad.example/", "http://evil.jp/path", "https://evil.example.com:8443/login"],
        )

    def test_it_leaves_ordinary_brackets_alone_when_refanging(self):
        self.assertEqual(refang("配列[0] と (注) [.]"), "配列[0] と (注) .")

    def test_it_finds_hrefs_image_sources_and_form_actions_in_html(self):
        markup = (
            '<a href="https://evil.example/a?x=1&amp;y=2">表示は https://bank.example/</a>'
            "<img src='https://evil.example/p.gif'><form action=https://evil.example/post></form>"
            "<!-- https://comment.example/ --><style>.x{background:url(https://css.example/)}</style>"
        )

        self.assertEqual(
            find_urls(html_to_text(markup)),
            [
                "https://evil.example/a?x=1&y=2",
                "https://bank.example/",
                "https://evil.example/p.gif",
                "https://evil.example/post",
            ],
        )


class UnwrapTests(unittest.TestCase):
    target = "https://evil.example/c/Ab3dEf6hIj9kLm2nOp5qRs?a=1&b=x_y-z"

    def test_it_unwraps_safe_links(self):
        self.assertEqual(unwrap(mails.safe_link(self.target)), self.target)

    def test_it_unwraps_proofpoint_v2(self):
        self.assertEqual(unwrap(mails.proofpoint_v2(self.target)), self.target)

    def test_it_unwraps_proofpoint_v1_and_v3(self):
        v1 = "https://urldefense.proofpoint.com/v1/url?u=https%3A%2F%2Fevil.example%2Fx&k=abc"
        v3 = "https://urldefense.com/v3/__https://evil.example/x?a=b*c__;Jg!!ABC!def$"

        self.assertEqual(unwrap(v1), "https://evil.example/x")
        self.assertEqual(unwrap(v3), "https://evil.example/x?a=b&c")

    def test_it_unwraps_google_and_barracuda_redirects(self):
        self.assertEqual(unwrap("https://www.google.com/url?q=https://evil.example/&sa=D"), "https://evil.example/")
        self.assertEqual(
            unwrap("https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fevil.example%2f&c=E"), "https://evil.example/"
        )

    def test_it_unwraps_a_rewrite_inside_a_rewrite(self):
        self.assertEqual(unwrap(mails.safe_link(mails.proofpoint_v2(self.target))), self.target)

    def test_it_leaves_ordinary_and_broken_urls_as_they_are(self):
        for url in ("https://evil.example/?url=https://x.example/", "http://[::1", "https://urldefense.com/v3/__x"):
            with self.subTest(url=url):
                self.assertEqual(unwrap(url), url)

    def test_it_reports_both_the_destination_and_the_rewrite(self):
        parsed = parse_report(mails.original(url=mails.safe_link("https://evil.example/login")))

        self.assertIn("https://evil.example/login", parsed.reported.urls)
        self.assertEqual(parsed.reported.rewritten_urls, [mails.safe_link("https://evil.example/login")])
        self.assertIn("evil.example", parsed.reported.domains)
        self.assertNotIn("apc01.safelinks.protection.outlook.com", parsed.reported.domains)


class IndicatorTests(unittest.TestCase):
    def test_it_lists_hosts_domains_and_public_ips_of_urls(self):
        parsed = parse_report(mails.original(url="http://93.184.216.34/x https://192.168.1.1/ https://Evil.Example./"))

        self.assertIn("93.184.216.34", parsed.reported.ips)
        self.assertNotIn("192.168.1.1", parsed.reported.ips)
        self.assertIn("evil.example", parsed.reported.domains)

    def test_host_of_survives_malformed_urls(self):
        self.assertEqual(host_of("http://[bad/"), "")
        self.assertEqual(host_of("https://EVIL.example:8443/"), "evil.example")
