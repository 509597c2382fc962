"""MTTD / MTTA / MTTC / MTTR on hand-built histories, grouped per ward, category and fiscal quarter."""

import datetime

from django.test import SimpleTestCase, TestCase

from mamori.core.tests.makers import make_organization
from mamori.incidents import measures
from mamori.incidents.models import JST, Case
from mamori.incidents.tests.makers import make_case, make_history

H = datetime.timedelta(hours=1)
M = datetime.timedelta(minutes=1)


def jst(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=JST)


class KnownHistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward_a = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        mail, malware = Case.Category.TARGETED_MAIL, Case.Category.MALWARE

        # A, Q1, mail: occurred known to the minute → MTTD 1 h; MTTA 30 min, MTTC 4 h, MTTR 22 h.
        start = jst(5, 10, 9)
        cls.full = make_case(
            cls.ward_a, category=mail, detected_at=start, occurred_at=start - H, occurred_precision="exact"
        )
        make_history(
            cls.full,
            [
                ("triage", start + 30 * M),
                ("in_progress", start + H),
                ("contained", start + 4 * H),
                ("eradicated", start + 6 * H),
                ("recovered", start + 11 * H),
                ("closed", start + 22 * H),
            ],
        )
        # A, Q1, malware, major: occurred known to the day only → no MTTD; MTTA 1 h, MTTC 10 h, MTTR 50 h.
        start = jst(5, 20, 10)
        cls.major = make_case(
            cls.ward_a, category=malware, detected_at=start, occurred_at=jst(5, 19), occurred_precision="day"
        )
        Case.objects.filter(pk=cls.major.pk).update(is_major=True)
        make_history(
            cls.major,
            [
                ("triage", start + H),
                ("in_progress", start + 90 * M),
                ("contained", start + 10 * H),
                ("recovered", start + 30 * H),
                ("closed", start + 50 * H),
            ],
        )
        # A, Q2, mail, false alarm: occurred known to the hour → MTTD 1 h; MTTA 10 min; MTTR 40 min; no MTTC.
        start = jst(7, 1, 10)
        cls.false_alarm = make_case(
            cls.ward_a, category=mail, detected_at=start, occurred_at=start - H, occurred_precision="hour"
        )
        make_history(
            cls.false_alarm, [("triage", start + 10 * M), ("closed", start + 40 * M)], resolution="false_positive"
        )
        # A, Q2, mail, still open: MTTA 2 h only.
        start = jst(7, 2, 10)
        cls.still_open = make_case(cls.ward_a, category=mail, detected_at=start)
        make_history(cls.still_open, [("triage", start + 2 * H), ("in_progress", start + 3 * H)])
        # A, Q2, malware, closed, reopened, closed again: first triage and first containment count, the final
        # close counts for MTTR (12 h), all from the same detection.
        start = jst(7, 3, 0)
        cls.reopened = make_case(cls.ward_a, category=malware, detected_at=start)
        make_history(
            cls.reopened,
            [
                ("triage", start + H),
                ("closed", start + 2 * H),
                ("triage", start + 5 * H),
                ("in_progress", start + 6 * H),
                ("contained", start + 8 * H),
                ("recovered", start + 9 * H),
                ("closed", start + 12 * H),
            ],
        )
        # A, Q2, reopened and open again: no MTTR.
        start = jst(7, 4, 0)
        cls.reopened_open = make_case(cls.ward_a, category=malware, detected_at=start)
        make_history(
            cls.reopened_open, [("triage", start + H), ("closed", start + 2 * H), ("in_progress", start + 3 * H)]
        )
        # B, Q1, mail: MTTA 2 h, MTTR 4 h.
        start = jst(5, 11, 9)
        cls.ward_b_case = make_case(cls.ward_b, category=mail, detected_at=start)
        make_history(cls.ward_b_case, [("triage", start + 2 * H), ("closed", start + 4 * H)], resolution="duplicate")

    def test_one_case_durations(self):
        durations = measures.case_durations(self.full)
        self.assertEqual(durations, measures.CaseDurations(mttd=H, mtta=30 * M, mttc=4 * H, mttr=22 * H))
        self.assertEqual(
            measures.case_durations(self.major), measures.CaseDurations(mttd=None, mtta=H, mttc=10 * H, mttr=50 * H)
        )
        self.assertEqual(measures.case_durations(self.reopened).mttr, 12 * H)
        self.assertIsNone(measures.case_durations(self.reopened_open).mttr)

    def test_the_wards_totals(self):
        report = measures.measure(Case.objects.filter(organization=self.ward_a))
        total = report.total
        self.assertEqual((total.cases, total.open, total.major), (6, 2, 1))
        self.assertEqual(total.mttd, measures.Stat(2, H, H))
        # MTTA: 30 min, 1 h, 10 min, 2 h, 1 h, 1 h → mean 5h40m / 6.
        self.assertEqual(total.mtta.count, 6)
        self.assertEqual(total.mtta.mean, (30 * M + H + 10 * M + 2 * H + H + H) / 6)
        self.assertEqual(total.mttc, measures.Stat(3, (4 * H + 10 * H + 8 * H) / 3, 8 * H))
        # MTTR: 22 h, 50 h, 40 min, 12 h → mean 21h10m, within the 24 h KGI.
        self.assertEqual(total.mttr.count, 4)
        self.assertEqual(total.mttr.mean, (22 * H + 50 * H + 40 * M + 12 * H) / 4)
        self.assertEqual(total.mttr.median, (12 * H + 22 * H) / 2)
        self.assertTrue(total.meets_target)

    def test_per_category_and_per_quarter(self):
        report = measures.measure(Case.objects.filter(organization=self.ward_a))
        by_category = {group.label: group for group in report.by_category}
        self.assertEqual(list(by_category), ["標的型メール", "マルウェア感染"])
        self.assertEqual(
            by_category["標的型メール"].mttr, measures.Stat(2, (22 * H + 40 * M) / 2, (22 * H + 40 * M) / 2)
        )
        self.assertEqual(by_category["マルウェア感染"].mttr.mean, 31 * H)
        self.assertFalse(by_category["マルウェア感染"].meets_target)
        self.assertEqual(by_category["マルウェア感染"].major, 1)
        self.assertEqual([group.label for group in report.by_quarter], ["2026年度 第1四半期", "2026年度 第2四半期"])
        self.assertEqual([group.cases for group in report.by_quarter], [2, 4])

    def test_per_ward(self):
        report = measures.measure(Case.objects.all())
        by_ward = {group.label: group for group in report.by_ward}
        self.assertEqual(list(by_ward), ["A区", "B区"])
        self.assertEqual(by_ward["B区"].mttr, measures.Stat(1, 4 * H, 4 * H))
        self.assertEqual(by_ward["B区"].mtta.mean, 2 * H)

    def test_a_period_selects_cases_by_detection(self):
        first_quarter = measures.cases_detected_between(Case.objects.all(), jst(4, 1), jst(7, 1))
        self.assertEqual(measures.measure(first_quarter).total.cases, 3)

    def test_the_cost_does_not_grow_with_the_cases(self):
        with self.assertNumQueries(2):
            small = measures.measure(Case.objects.filter(organization=self.ward_b))
        for _ in range(20):
            case = make_case(self.ward_b, detected_at=jst(6, 1))
            make_history(case, [("triage", jst(6, 1, 1)), ("closed", jst(6, 1, 2))], resolution="false_positive")
        with self.assertNumQueries(2):
            large = measures.measure(Case.objects.filter(organization=self.ward_b))
        self.assertEqual((small.total.cases, large.total.cases), (1, 21))

    def test_no_cases_give_empty_figures(self):
        report = measures.measure(Case.objects.none())
        self.assertEqual(report.total.cases, 0)
        self.assertIsNone(report.total.mttr.mean)
        self.assertIsNone(report.total.meets_target)


class DetectionPrecisionTests(TestCase):
    """Every figure starts at the detection: a case detected at a day-only time is counted but not timed."""

    def test_a_day_only_detection_time_is_left_out_of_the_durations(self):
        ward = make_organization("ward-c", "C区")
        start = jst(6, 1, 9)
        known = make_case(ward, detected_at=start, occurred_at=start - H, occurred_precision="exact")
        make_history(known, [("triage", start + H), ("closed", start + 4 * H)], resolution="false_positive")
        vague = make_case(
            ward,
            detected_at=jst(6, 2),
            detected_precision="day",
            occurred_at=jst(6, 1, 23),
            occurred_precision="exact",
        )
        make_history(vague, [("triage", jst(6, 2, 10)), ("closed", jst(6, 2, 11))], resolution="false_positive")

        self.assertEqual(measures.case_durations(vague), measures.CaseDurations(None, None, None, None))
        total = measures.measure(Case.objects.filter(organization=ward)).total
        self.assertEqual(total.cases, 2)
        self.assertEqual(
            (total.mttd, total.mtta, total.mttr),
            (measures.Stat(1, H, H), measures.Stat(1, H, H), measures.Stat(1, 4 * H, 4 * H)),
        )

    def test_an_hour_precise_detection_is_timed(self):
        ward = make_organization("ward-d", "D区")
        start = jst(6, 1, 9)
        case = make_case(ward, detected_at=start, detected_precision="hour")
        make_history(case, [("triage", start + 2 * H)])
        self.assertEqual(measures.case_durations(case).mtta, 2 * H)


class QuarterTests(SimpleTestCase):
    def test_fiscal_quarters_start_in_april_in_jst(self):
        self.assertEqual(measures.fiscal_quarter_of(jst(4, 1)), (2026, 1))
        self.assertEqual(measures.fiscal_quarter_of(jst(12, 31, 23)), (2026, 3))
        self.assertEqual(measures.fiscal_quarter_of(jst(3, 31, 23, year=2027)), (2026, 4))
        # 2026-03-31 15:00 UTC is 1 April 00:00 JST.
        utc = datetime.datetime(2026, 3, 31, 15, 0, tzinfo=datetime.UTC)
        self.assertEqual(measures.fiscal_quarter_of(utc), (2026, 1))
