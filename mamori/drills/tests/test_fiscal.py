import datetime

from mamori.core.tests.base import BaseTestCase
from mamori.drills.fiscal import (
    expected_rounds_so_far,
    fiscal_year_bounds,
    fiscal_year_of,
    next_round_number,
    quarters_ended,
    round_label,
)
from mamori.drills.tests.makers import make_campaign


class FiscalYearTests(BaseTestCase):
    def test_the_fiscal_year_starts_on_the_first_of_april(self):
        self.assertEqual(fiscal_year_of(datetime.date(2026, 4, 1)), 2026)
        self.assertEqual(fiscal_year_of(datetime.date(2027, 3, 31)), 2026)
        self.assertEqual(fiscal_year_of(datetime.date(2027, 1, 1)), 2026)
        self.assertEqual(fiscal_year_of(datetime.date(2026, 3, 31)), 2025)

    def test_the_bounds_are_midnight_in_japan(self):
        start, end = fiscal_year_bounds(2026)
        self.assertEqual(start.isoformat(), "2026-04-01T00:00:00+09:00")
        self.assertEqual(end.isoformat(), "2027-04-01T00:00:00+09:00")

    def test_a_round_is_named_by_fiscal_year_and_number(self):
        self.assertEqual(round_label(2026, 2), "2026年度 第2回")

    def test_a_campaign_name_is_the_round_and_the_optional_title(self):
        untitled = make_campaign(self.ward_a, round_number=2)
        titled = make_campaign(self.ward_a, round_number=3, title="請求書を装うメール")
        self.assertEqual(untitled.display_name, "2026年度 第2回")
        self.assertEqual(titled.display_name, "2026年度 第3回 請求書を装うメール")

    def test_it_proposes_the_round_after_the_highest_of_the_year(self):
        self.assertEqual(next_round_number(self.ward_a, 2026), 1)
        make_campaign(self.ward_a, round_number=1)
        make_campaign(self.ward_a, round_number=2)
        make_campaign(self.ward_a, round_number=1, fiscal_year=2025)
        make_campaign(self.ward_b, round_number=7)
        self.assertEqual(next_round_number(self.ward_a, 2026), 3)
        self.assertEqual(next_round_number(self.ward_a, 2027), 1)

    def test_the_pace_is_one_round_per_ended_quarter(self):
        self.assertEqual(quarters_ended(2026, datetime.date(2026, 3, 31)), 0)
        self.assertEqual(quarters_ended(2026, datetime.date(2026, 6, 30)), 0)
        self.assertEqual(quarters_ended(2026, datetime.date(2026, 7, 1)), 1)
        self.assertEqual(quarters_ended(2026, datetime.date(2027, 1, 1)), 3)
        self.assertEqual(quarters_ended(2026, datetime.date(2027, 3, 31)), 3)
        self.assertEqual(quarters_ended(2026, datetime.date(2027, 4, 1)), 4)
        self.assertEqual(expected_rounds_so_far(2026, datetime.date(2030, 1, 1)), 4)
        self.assertEqual(expected_rounds_so_far(2026, datetime.date(2026, 10, 1)), 2)
