"""Marking cues on the mail: first free occurrence, sender before subject before body, everything escaped."""

from django.test import SimpleTestCase

from mamori.drills.library import load_library
from mamori.drills.models import Scenario
from mamori.drills.rendering import SampleOrganization, render_preview, sample_person
from mamori.learning.cues import mark_cues


def cue(excerpt: str, label: str = "ラベル") -> dict:
    return {"label": label, "detail": "説明", "excerpt": excerpt}


class MarkCuesTests(SimpleTestCase):
    def test_it_marks_the_sender_line_before_the_body(self):
        mail = mark_cues(
            sender="総務 <a@evil.example>", subject="件名", text="a@evil.example より", cues=[cue("a@evil.example")]
        )
        self.assertIn('<mark class="cue" id="cue-mark-1">a@evil.example</mark>', mail.sender)
        self.assertNotIn("<mark", mail.text)

    def test_two_cues_on_the_same_words_mark_different_occurrences(self):
        mail = mark_cues(sender="", subject="", text="至急 至急", cues=[cue("至急"), cue("至急")])
        self.assertEqual(mail.text.count("<mark"), 2)
        self.assertIn('id="cue-mark-1">至急</mark>', mail.text)
        self.assertIn('id="cue-mark-2">至急</mark>', mail.text)

    def test_an_overlapping_cue_is_listed_but_not_marked(self):
        mail = mark_cues(sender="", subject="", text="本日中に回答", cues=[cue("本日中に"), cue("中に回答")])
        self.assertEqual([c.found for c in mail.cues], [True, False])
        self.assertEqual(mail.text.count("<mark"), 1)

    def test_a_cue_without_excerpt_or_not_in_the_mail_is_listed_unmarked(self):
        mail = mark_cues(sender="", subject="", text="本文", cues=[cue(""), cue("ない言葉"), "not a cue"])
        self.assertEqual([(c.number, c.found) for c in mail.cues], [(1, False), (2, False)])
        self.assertEqual(mail.text, "本文")

    def test_it_escapes_everything_around_the_marks(self):
        mail = mark_cues(sender="", subject="<s>", text="<a href=x>押す</a> & 押す", cues=[cue("押す")])
        self.assertEqual(mail.subject, "&lt;s&gt;")
        self.assertTrue(mail.text.startswith('&lt;a href=x&gt;<mark class="cue" id="cue-mark-1">押す</mark>'))
        self.assertTrue(mail.text.endswith("&lt;/a&gt; &amp; 押す"))

    def test_every_library_cue_is_marked_on_its_mail(self):
        for entry in load_library():
            scenario = Scenario(**entry)
            rendered = render_preview(scenario, sample_person(), SampleOrganization())
            mail = mark_cues(
                sender=f"{rendered.sender_name} <{rendered.sender_address}>",
                subject=rendered.subject,
                text=rendered.text,
                cues=scenario.cues,
            )
            with self.subTest(scenario=entry["library_key"]):
                self.assertEqual([c.excerpt for c in mail.cues if not c.found], [])
