import datetime
import random
from collections import Counter

from django.test import SimpleTestCase

from mamori.drills.schedule import (
    JST,
    SendingWindow,
    business_days,
    closed_weekdays,
    closing_reason,
    estimate_finish,
    is_business_day,
    spread_send_times,
)

D = datetime.date
T = datetime.time


def at(year, month, day, hour=0, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=JST)


class BusinessDayTests(SimpleTestCase):
    def test_weekends_are_skipped(self):
        self.assertFalse(is_business_day(D(2026, 11, 21)))  # Saturday
        self.assertFalse(is_business_day(D(2026, 11, 22)))  # Sunday
        self.assertTrue(is_business_day(D(2026, 11, 24)))

    def test_national_holidays_are_skipped_with_their_name(self):
        self.assertEqual(closing_reason(D(2026, 11, 23)), "勤労感謝の日")
        self.assertEqual(closing_reason(D(2026, 9, 22)), "国民の休日")
        self.assertEqual(closing_reason(D(2026, 5, 6)), "振替休日")

    def test_the_administrative_year_end_closing_days_are_skipped(self):
        for day in (D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 31), D(2027, 1, 2), D(2027, 1, 3)):
            self.assertFalse(is_business_day(day), day)
        self.assertEqual(closing_reason(D(2026, 12, 29)), "年末年始（行政機関の休日）")
        self.assertTrue(is_business_day(D(2026, 12, 28)))
        self.assertTrue(is_business_day(D(2027, 1, 4)))

    def test_business_days_across_the_year_end(self):
        self.assertEqual(
            business_days(D(2026, 12, 25), D(2027, 1, 6)),
            [D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 5), D(2027, 1, 6)],
        )

    def test_it_lists_the_weekdays_without_sending_and_why(self):
        self.assertEqual(closed_weekdays(D(2026, 11, 20), D(2026, 11, 25)), [(D(2026, 11, 23), "勤労感謝の日")])


class WindowTests(SimpleTestCase):
    def test_default_hours_are_nine_to_five(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 24))
        self.assertEqual(window.intervals(), [(at(2026, 11, 24, 9), 480)])

    def test_minutes_count_business_days_only(self):
        window = SendingWindow(D(2026, 11, 20), D(2026, 11, 25), T(10, 0), T(12, 30))
        self.assertEqual(window.business_minutes(), 3 * 150)  # 20th, 24th, 25th; 21–23 skipped

    def test_a_window_is_cut_at_the_launch_time_rounded_up_to_the_minute(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 25))
        launch = at(2026, 11, 24, 16, 30) + datetime.timedelta(seconds=20)
        self.assertEqual(
            window.intervals(not_before=launch), [(at(2026, 11, 24, 16, 31), 29), (at(2026, 11, 25, 9), 480)]
        )
        self.assertEqual(window.business_minutes(not_before=at(2026, 11, 25, 17)), 0)

    def test_the_launch_time_is_read_in_japan_time(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 24))
        launch_utc = datetime.datetime(2026, 11, 24, 7, 0, tzinfo=datetime.UTC)  # 16:00 JST
        self.assertEqual(window.business_minutes(not_before=launch_utc), 60)

    def test_it_rejects_an_end_before_the_start(self):
        errors = SendingWindow(D(2026, 11, 25), D(2026, 11, 24)).errors()
        self.assertEqual(errors, ["終了日は開始日と同じか、それより後の日にしてください。"])

    def test_it_rejects_hours_that_end_before_they_start(self):
        errors = SendingWindow(D(2026, 11, 24), D(2026, 11, 24), T(17, 0), T(9, 0)).errors()
        self.assertEqual(errors, ["送信開始時刻は送信終了時刻より前にしてください。"])

    def test_it_rejects_a_window_without_a_business_day(self):
        errors = SendingWindow(D(2026, 12, 29), D(2027, 1, 3)).errors()
        self.assertEqual(errors, ["期間中に送信できる日（土日・祝日・年末年始を除く平日）がありません。"])
        self.assertTrue(SendingWindow(D(2026, 11, 21), D(2026, 11, 23)).errors())  # Sat, Sun, holiday

    def test_a_valid_window_has_no_errors(self):
        self.assertEqual(SendingWindow(D(2026, 11, 23), D(2026, 11, 24)).errors(), [])


class SpreadTests(SimpleTestCase):
    def test_every_time_is_inside_business_hours_on_a_business_day(self):
        window = SendingWindow(D(2026, 12, 24), D(2027, 1, 6), T(9, 30), T(16, 0))
        times = spread_send_times([i % 7 for i in range(2000)], window, rng=random.Random(1))
        for moment in times:
            self.assertEqual(moment.tzinfo, JST)
            self.assertTrue(is_business_day(moment.date()), moment)
            self.assertTrue(T(9, 30) <= moment.time() < T(16, 0), moment)

    def test_no_two_members_of_a_department_share_a_minute(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 24))  # 480 minutes
        departments = ["文書係"] * 480 + ["税務課"] * 200 + ["人事課"] * 3
        times = spread_send_times(departments, window, rng=random.Random(7))
        for department in set(departments):
            minutes = [t.replace(second=0) for t, d in zip(times, departments, strict=True) if d == department]
            self.assertEqual(len(minutes), len(set(minutes)), department)

    def test_a_department_larger_than_the_window_is_dealt_evenly(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 24), T(9, 0), T(9, 10))
        times = spread_send_times(["大きな課"] * 25, window, rng=random.Random(3))
        per_minute = Counter(t.replace(second=0) for t in times)
        self.assertEqual(len(per_minute), 10)
        self.assertLessEqual(max(per_minute.values()), 3)

    def test_the_whole_audience_is_spread_over_the_window(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 26))  # three days
        times = spread_send_times([i % 40 for i in range(3000)], window, rng=random.Random(5))
        per_day = Counter(t.date() for t in times)
        for count in per_day.values():
            self.assertAlmostEqual(count, 1000, delta=60)

    def test_the_spread_is_reproducible_under_a_seed(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 27))
        departments = [i % 5 for i in range(100)]
        first = spread_send_times(departments, window, rng=random.Random(11))
        second = spread_send_times(departments, window, rng=random.Random(11))
        self.assertEqual(first, second)

    def test_it_starts_at_the_launch_time(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 25))
        launch = at(2026, 11, 25, 14)
        times = spread_send_times(["a"] * 50, window, rng=random.Random(2), not_before=launch)
        self.assertTrue(all(launch <= t < at(2026, 11, 25, 17) for t in times))

    def test_it_refuses_a_window_that_is_over(self):
        window = SendingWindow(D(2026, 11, 24), D(2026, 11, 24))
        with self.assertRaises(ValueError):
            spread_send_times(["a"], window, rng=random.Random(1), not_before=at(2026, 11, 24, 17))


class FinishEstimateTests(SimpleTestCase):
    def test_the_rate_limit_bounds_the_finish(self):
        now = at(2026, 11, 24, 10)
        finish = estimate_finish(queued=1200, last_scheduled=at(2026, 11, 24, 10, 1), rate_per_minute=600, now=now)
        self.assertEqual(finish, at(2026, 11, 24, 10, 2))

    def test_the_last_send_time_bounds_the_finish(self):
        now = at(2026, 11, 24, 10)
        finish = estimate_finish(queued=10, last_scheduled=at(2026, 11, 25, 16), rate_per_minute=600, now=now)
        self.assertEqual(finish, at(2026, 11, 25, 16))

    def test_nothing_queued_has_no_finish(self):
        self.assertIsNone(estimate_finish(queued=0, last_scheduled=None, rate_per_minute=0, now=at(2026, 11, 24)))
