"""Append-only rows and on-duty hours."""

import datetime

from django.test import TestCase
from django.utils import timezone

from mamori.core.models.audit import AppendOnlyError
from mamori.core.tests.makers import make_organization
from mamori.incidents import actions
from mamori.incidents.models import JST, CustodyEntry, DutyContact, TimelineEntry, Transition
from mamori.incidents.tests.makers import make_case


class AppendOnlyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.case = make_case(cls.ward, title="標的型メールの受信")

    def test_it_refuses_to_change_a_transition(self):
        opening = Transition.objects.get(case=self.case)
        opening.note = "書き換え"
        with self.assertRaises(AppendOnlyError):
            opening.save()
        self.assertEqual(Transition.objects.get(case=self.case).note, "")

    def test_it_refuses_to_delete_a_transition(self):
        with self.assertRaises(AppendOnlyError):
            Transition.objects.get(case=self.case).delete()
        self.assertEqual(Transition.objects.filter(case=self.case).count(), 1)

    def test_bulk_updates_and_deletes_are_refused_too(self):
        for rows in (
            Transition.objects.filter(case=self.case),
            self.case.transitions.all(),
            TimelineEntry.objects.all(),
            CustodyEntry.objects.all(),
        ):
            with self.assertRaises(AppendOnlyError):
                rows.update(created_at=timezone.now())
            with self.assertRaises(AppendOnlyError):
                rows.delete()
        self.assertEqual(Transition.objects.filter(case=self.case).count(), 1)

    def test_deleting_a_whole_case_still_removes_its_history(self):
        # Cascade deletes (a ward's data removed) do not go through the refusing queryset.
        case = make_case(self.ward, title="削除される事案")
        actions.add_timeline_entry(case, actor=None, organization=self.ward, text="記録")
        case.delete()
        self.assertFalse(Transition.objects.filter(case_id=case.pk).exists())
        self.assertFalse(TimelineEntry.objects.filter(case_id=case.pk).exists())

    def test_it_refuses_to_change_or_delete_a_timeline_entry(self):
        entry = actions.add_timeline_entry(self.case, actor=None, organization=self.ward, text="受信を確認")
        entry.text = "別の内容"
        with self.assertRaises(AppendOnlyError):
            entry.save()
        with self.assertRaises(AppendOnlyError):
            entry.delete()
        self.assertEqual(TimelineEntry.objects.get(pk=entry.pk).text, "受信を確認")

    def test_it_refuses_to_change_a_custody_entry(self):
        evidence = actions.register_evidence(
            self.case, actor=None, organization=self.ward, description="ディスクイメージ", sha256="a" * 64
        )
        entry = CustodyEntry.objects.get(evidence=evidence)
        entry.to_holder = "誰か"
        with self.assertRaises(AppendOnlyError):
            entry.save()
        with self.assertRaises(AppendOnlyError):
            entry.delete()


class OnDutyTests(TestCase):
    def setUp(self):
        self.ward = make_organization("ward-a", "A区")

    def at(self, day: int, hour: int) -> datetime.datetime:
        # 2026-12-07 is a Monday.
        return datetime.datetime(2026, 12, day, hour, 0, tzinfo=JST)

    def test_a_contact_without_hours_is_always_on_duty(self):
        contact = DutyContact(organization=self.ward, name="当番", email="duty@city-a.lg.jp")
        self.assertTrue(contact.is_on_duty(timezone.now()))

    def test_it_honours_weekdays_and_office_hours_in_jst(self):
        contact = DutyContact(
            organization=self.ward,
            name="日勤",
            email="day@city-a.lg.jp",
            weekdays=[1, 2, 3, 4, 5],
            hours_start=datetime.time(8, 30),
            hours_end=datetime.time(17, 15),
        )
        self.assertTrue(contact.is_on_duty(self.at(7, 9)))
        self.assertFalse(contact.is_on_duty(self.at(7, 18)))
        self.assertFalse(contact.is_on_duty(self.at(12, 9)))  # Saturday
        # 00:30 UTC on Monday is 09:30 JST: the zone counts, not the server's.
        self.assertTrue(contact.is_on_duty(datetime.datetime(2026, 12, 7, 0, 30, tzinfo=datetime.UTC)))

    def test_night_hours_span_midnight(self):
        contact = DutyContact(
            organization=self.ward,
            name="夜間",
            email="night@city-a.lg.jp",
            hours_start=datetime.time(17, 15),
            hours_end=datetime.time(8, 30),
        )
        self.assertTrue(contact.is_on_duty(self.at(7, 23)))
        self.assertTrue(contact.is_on_duty(self.at(8, 3)))
        self.assertFalse(contact.is_on_duty(self.at(8, 12)))
