"""Finding mamori delivery tokens in a report: links of every kind, rewritten links, the drill header."""

import unittest
from urllib.parse import quote

from mamori.lib.mailparse import drill_tokens, parse_report
from mamori.lib.tests import mails
from mamori.lib.tests.test_forwards import plain_report

TOKEN = mails.TOKEN


def tokens_in_text(text: str) -> list[str]:
    return drill_tokens(parse_report(plain_report(text)))


class DrillTokenTests(unittest.TestCase):
    def test_it_finds_the_token_of_every_link_kind(self):
        for path in (
            f"c/{TOKEN}",
            f"q/{TOKEN}",
            f"a/{TOKEN}?s=pdf",
            f"o/{TOKEN}.gif",
            f"x/{TOKEN}",
            f"l/{TOKEN}/login/",
        ):
            with self.subTest(path=path):
                self.assertEqual(tokens_in_text(f"{mails.DRILL_BASE}/{path}"), [TOKEN])

    def test_it_finds_the_token_in_attached_and_inline_forwards(self):
        for raw in (mails.forward_as_attachment(mails.original()), mails.forward_inline(html=False)):
            with self.subTest():
                self.assertEqual(drill_tokens(parse_report(raw)), [TOKEN])

    def test_it_finds_the_token_behind_safe_links_and_proofpoint(self):
        for wrap in (mails.safe_link, mails.proofpoint_v2, lambda url: mails.safe_link(mails.proofpoint_v2(url))):
            with self.subTest(wrap=wrap):
                raw = mails.forward_inline(client="outlook", html=False, url=wrap(mails.drill_url("c")))
                self.assertEqual(drill_tokens(parse_report(raw)), [TOKEN])

    def test_it_finds_the_token_percent_encoded_in_an_unknown_rewriter(self):
        once = quote(mails.drill_url(), safe="")
        twice = quote(once, safe="")

        self.assertEqual(tokens_in_text(f"https://scanner.example/check?target={once}"), [TOKEN])
        self.assertEqual(tokens_in_text(f"https://scanner.example/check?target={twice}"), [TOKEN])

    def test_it_finds_the_token_in_the_drill_header(self):
        parsed = parse_report(mails.original(url="https://example.com/", html=False, drill_header=TOKEN))

        self.assertEqual(drill_tokens(parsed), [TOKEN])

    def test_it_puts_the_most_frequent_token_first(self):
        text = f"{mails.drill_url('c', mails.OTHER_TOKEN)} {mails.drill_url('c')} {mails.drill_url('o')}.gif"

        self.assertEqual(tokens_in_text(text), [TOKEN, mails.OTHER_TOKEN])

    def test_it_ignores_tokens_of_the_wrong_length_or_under_other_prefixes(self):
        text = (
            f"{mails.DRILL_BASE}/c/{TOKEN}x {mails.DRILL_BASE}/c/{TOKEN[:-1]} {mails.DRILL_BASE}/z/{TOKEN} "
            f"{mails.DRILL_BASE}/catalog/{TOKEN}"
        )

        self.assertEqual(tokens_in_text(text), [])

    def test_it_takes_the_prefixes_and_pattern_it_is_given(self):
        parsed = parse_report(plain_report(f"https://d.example/track/{TOKEN} https://d.example/c/abc"))

        self.assertEqual(drill_tokens(parsed, prefixes=["track"]), [TOKEN])
        self.assertEqual(drill_tokens(parsed, prefixes=["c"], token_pattern="[a-z]{3}"), ["abc"])

    def test_it_ignores_a_drill_header_that_is_not_a_token(self):
        parsed = parse_report(mails.original(url="https://example.com/", html=False, drill_header="1"))

        self.assertEqual(drill_tokens(parsed), [])
