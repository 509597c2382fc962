"""The legal clock: which cases must be reported to the PPC, the 速報/確報 due dates, and the tasks."""

import datetime

from django.test import SimpleTestCase, TestCase, override_settings
from django.utils import timezone

from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions, legal_clock
from mamori.incidents.models import JST, Task
from mamori.incidents.tests.makers import make_case

DETECTED = datetime.datetime(2026, 12, 3, 16, 40, tzinfo=JST)


def deadlines(**fields):
    values = {"detected_at": DETECTED, "records_count": 0, "record_kinds": [], "unauthorised_purpose": False}
    return legal_clock.deadlines(**{**values, **fields})


class ReportableTests(SimpleTestCase):
    def test_no_personal_data_means_no_clock(self):
        self.assertIsNone(deadlines(unauthorised_purpose=True))

    def test_100_people_are_not_enough_and_101_are(self):
        self.assertIsNone(deadlines(records_count=100, record_kinds=["name_address"]))
        self.assertEqual(deadlines(records_count=101).reasons, ("over_100_people",))

    def test_one_sensitive_or_financial_record_is_enough(self):
        self.assertEqual(deadlines(records_count=1, record_kinds=["sensitive"]).reasons, ("sensitive",))
        self.assertEqual(deadlines(records_count=1, record_kinds=["financial"]).reasons, ("financial",))
        self.assertIsNone(deadlines(records_count=1, record_kinds=["my_number", "name_address"]))

    def test_an_unauthorised_purpose_with_personal_data_is_enough(self):
        self.assertEqual(deadlines(records_count=3, unauthorised_purpose=True).reasons, ("unauthorised_purpose",))

    def test_ordinance_sensitive_data_is_enough_for_a_ward(self):
        # 規則第43条第5号: a category the ward's own 条例 makes sensitive, even for one person.
        due = deadlines(records_count=1, record_kinds=["ordinance_sensitive"])
        self.assertEqual(due.reasons, ("ordinance_sensitive",))
        self.assertEqual(legal_clock.REASON_SOURCES["ordinance_sensitive"], "規則第43条第5号")

    def test_reasons_follow_the_order_of_the_rule(self):
        due = deadlines(records_count=500, record_kinds=["ordinance_sensitive", "financial", "sensitive"])
        self.assertEqual(due.reasons, ("sensitive", "financial", "over_100_people", "ordinance_sensitive"))
        self.assertEqual(
            [legal_clock.REASON_SOURCES[reason] for reason in due.reasons],
            ["規則第43条第1号", "規則第43条第2号", "規則第43条第4号", "規則第43条第5号"],
        )

    @override_settings(INCIDENTS_PPC_PRELIMINARY_DAYS=3)
    def test_the_day_of_knowing_is_day_one(self):
        # Detected on Thursday 3 December: the 速報 is due at the end of the 3rd day, Saturday 5 December (a
        # target, not moved off the weekend).
        due = deadlines(records_count=1, record_kinds=["sensitive"])
        self.assertEqual(due.preliminary_due, datetime.datetime(2026, 12, 5, 23, 59, 59, tzinfo=JST))

    def test_a_final_due_date_on_a_business_day_stays(self):
        # Monday 1 June is day 1; day 30 is Tuesday 30 June.
        due = deadlines(detected_at=datetime.datetime(2026, 6, 1, 9, 0, tzinfo=JST), records_count=101)
        self.assertEqual(due.final_due, datetime.datetime(2026, 6, 30, 23, 59, 59, tzinfo=JST))

    def test_a_final_due_date_on_a_weekend_moves_to_monday(self):
        # Friday 5 June is day 1; day 30 is Saturday 4 July → Monday 6 July.
        due = deadlines(detected_at=datetime.datetime(2026, 6, 5, 9, 0, tzinfo=JST), records_count=101)
        self.assertEqual(due.final_due.date(), datetime.date(2026, 7, 6))

    def test_a_final_due_date_on_a_national_holiday_moves_to_the_next_day(self):
        # Monday 5 October is day 1; day 30 is Tuesday 3 November (文化の日) → Wednesday 4 November.
        due = deadlines(detected_at=datetime.datetime(2026, 10, 5, 9, 0, tzinfo=JST), records_count=101)
        self.assertEqual(due.final_due.date(), datetime.date(2026, 11, 4))

    def test_a_final_due_date_in_the_new_year_closing_days_moves_past_them(self):
        # Thursday 3 December is day 1; day 30 is 1 January 2027 (元日), then 1/2–1/3 are closing days.
        due = deadlines(records_count=1, record_kinds=["sensitive"])
        self.assertEqual(due.final_due, datetime.datetime(2027, 1, 4, 23, 59, 59, tzinfo=JST))

    def test_the_final_report_gets_60_days_when_the_purpose_was_unauthorised(self):
        # Day 60 is Sunday 31 January 2027 → Monday 1 February.
        due = deadlines(records_count=1, unauthorised_purpose=True)
        self.assertEqual(due.final_due, datetime.datetime(2027, 2, 1, 23, 59, 59, tzinfo=JST))

    def test_a_late_evening_detection_in_utc_counts_from_the_japanese_day(self):
        # 2026-12-03 20:00 UTC is 12-04 05:00 JST: the clock starts on the 4th.
        due = deadlines(detected_at=datetime.datetime(2026, 12, 3, 20, 0, tzinfo=datetime.UTC), records_count=101)
        self.assertEqual(due.preliminary_due.date(), datetime.date(2026, 12, 6))

    @override_settings(INCIDENTS_PPC_PRELIMINARY_DAYS=5)
    def test_the_preliminary_days_are_a_setting(self):
        self.assertEqual(deadlines(records_count=101).preliminary_due.date(), datetime.date(2026, 12, 7))


class LegalTaskTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.alice = make_user("alice", organization=cls.ward)

    def setUp(self):
        self.case = make_case(self.ward, actor=self.alice, detected_at=DETECTED)

    def legal_tasks(self) -> dict:
        return {task.kind: task for task in self.case.tasks.filter(kind__in=Task.LEGAL_KINDS)}

    def update(self, **changes):
        actions.update_case(self.case, actor=self.alice, organization=self.ward, **changes)

    def test_a_case_without_personal_data_has_no_legal_tasks(self):
        self.assertEqual(self.legal_tasks(), {})

    def test_a_reportable_case_gets_both_tasks_with_due_dates(self):
        self.update(personal_records_count=150, personal_record_kinds=["name_address"])
        tasks = self.legal_tasks()
        self.assertEqual(tasks["legal_ppc_preliminary"].title, "個人情報保護委員会への速報")
        self.assertEqual(tasks["legal_ppc_final"].title, "個人情報保護委員会への確報")
        self.assertEqual(tasks["legal_ppc_final"].due_at, datetime.datetime(2027, 1, 4, 23, 59, 59, tzinfo=JST))
        self.assertIn("本人の数が100人を超える（規則第43条第4号）", tasks["legal_ppc_final"].detail)
        self.assertIn("規則第44条第2項", tasks["legal_ppc_final"].detail)

    def test_a_suspected_unauthorised_purpose_moves_the_final_due_date(self):
        self.update(personal_records_count=150)
        self.update(unauthorised_purpose=True)
        tasks = self.legal_tasks()
        self.assertEqual(len(tasks), 2)
        self.assertEqual(tasks["legal_ppc_final"].due_at.date(), datetime.date(2027, 2, 1))

    def test_tasks_no_longer_needed_are_cancelled_not_deleted_and_come_back(self):
        self.update(personal_records_count=150)
        self.update(personal_records_count=20)
        tasks = self.legal_tasks()
        self.assertEqual(len(tasks), 2)
        self.assertTrue(all(task.cancelled_at is not None for task in tasks.values()))
        self.update(personal_record_kinds=["sensitive"])
        self.assertTrue(all(task.is_open for task in self.legal_tasks().values()))

    def test_a_done_report_is_left_alone(self):
        self.update(personal_records_count=150)
        preliminary = self.legal_tasks()["legal_ppc_preliminary"]
        actions.complete_task(preliminary, actor=self.alice, organization=self.ward)
        self.update(personal_records_count=0)
        preliminary.refresh_from_db()
        self.assertIsNotNone(preliminary.done_at)
        self.assertIsNone(preliminary.cancelled_at)

    def test_an_overdue_legal_task_shows_as_overdue(self):
        self.update(personal_records_count=150)
        preliminary = self.legal_tasks()["legal_ppc_preliminary"]
        self.assertTrue(preliminary.is_overdue(now=datetime.datetime(2026, 12, 6, 0, 0, tzinfo=JST)))
        self.assertFalse(preliminary.is_overdue(now=datetime.datetime(2026, 12, 5, 23, 0, tzinfo=JST)))
        self.assertLess(DETECTED, timezone.now())
