"""How the incident pages write times and durations: in JST, never more precisely than they are known."""

import datetime

from django.test import SimpleTestCase
from django.utils import translation

from mamori.incidents.templatetags.incident_pages import duration_text, when_text

UTC = datetime.UTC


class WhenTests(SimpleTestCase):
    moment = datetime.datetime(2026, 12, 3, 5, 37, tzinfo=UTC)  # 14:37 in Tokyo

    def test_each_precision_shows_only_what_is_known(self):
        self.assertEqual(when_text(self.moment, "exact"), "2026年12月3日 14:37")
        self.assertEqual(when_text(self.moment, "hour"), "2026年12月3日 14時台")
        self.assertEqual(when_text(self.moment, "day"), "2026年12月3日（時刻不明）")
        self.assertEqual(when_text(self.moment, "unknown"), "不明")
        self.assertEqual(when_text(None, "exact"), "不明")

    def test_in_english_the_day_is_written_the_english_way(self):
        with translation.override("en"):
            self.assertEqual(when_text(self.moment, "exact"), "Dec. 3, 2026 14:37")
            self.assertEqual(when_text(self.moment, "hour"), "Dec. 3, 2026, 14:00–14:59")
            self.assertEqual(when_text(self.moment, "day"), "Dec. 3, 2026 (time unknown)")

    def test_the_day_is_the_day_in_japan(self):
        late_utc = datetime.datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # already 4 December in Tokyo

        self.assertEqual(when_text(late_utc, "day"), "2026年12月4日（時刻不明）")


class DurationTests(SimpleTestCase):
    def test_durations_read_as_days_hours_and_minutes(self):
        self.assertEqual(duration_text(45 * 60), "45分")
        self.assertEqual(duration_text(3 * 3600 + 12 * 60), "3時間12分")
        self.assertEqual(duration_text(2 * 86400 + 5 * 3600), "2日と5時間")
        self.assertEqual(duration_text(None), "—")
