"""Timeline entries and tasks: corrections are new entries, times with precision, tasks done and undone."""

import datetime

from django.core.exceptions import PermissionDenied
from django.test import TestCase
from django.utils import timezone

from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions
from mamori.incidents.actions import IncidentActionError
from mamori.incidents.models import JST, TimelineEntry
from mamori.incidents.tests.makers import make_case


class TimelineTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.alice = make_user("alice", organization=cls.ward)

    def setUp(self):
        self.case = make_case(self.ward, actor=self.alice)

    def add(self, **fields):
        return actions.add_timeline_entry(self.case, actor=self.alice, organization=self.ward, **fields)

    def test_an_entry_keeps_its_time_precision_author_and_ward(self):
        afternoon = datetime.datetime(2026, 12, 3, 14, 0, tzinfo=JST)
        entry = self.add(text="添付ファイルを開いた（本人の申告）", at=afternoon, at_precision="hour")
        self.assertEqual((entry.at, entry.at_precision), (afternoon, "hour"))
        self.assertEqual((entry.author, entry.author_organization), (self.alice, self.ward))
        audit = AuditEntry.objects.get(action="incident.timeline_added")
        self.assertEqual(audit.details["entry"], str(entry.public_id))
        self.assertNotIn("添付", str(audit.details), "the text is not copied into the audit log")

    def test_a_correction_is_a_new_entry_pointing_at_the_old_one(self):
        wrong = self.add(text="14時ごろに開いた")
        fix = self.add(text="実際は13時台に開いていた", corrects=wrong)
        self.assertEqual((fix.kind, fix.corrects), ("correction", wrong))
        self.assertEqual(TimelineEntry.objects.get(pk=wrong.pk).text, "14時ごろに開いた")
        other_case = make_case(self.ward)
        with self.assertRaises(IncidentActionError):
            actions.add_timeline_entry(other_case, actor=self.alice, organization=self.ward, text="x", corrects=wrong)

    def test_it_refuses_empty_text_and_future_times(self):
        with self.assertRaisesMessage(IncidentActionError, "内容を入力してください"):
            self.add(text="   ")
        with self.assertRaisesMessage(IncidentActionError, "未来の日時"):
            self.add(text="予定", at=timezone.now() + datetime.timedelta(hours=1))
        self.assertFalse(TimelineEntry.objects.exists())

    def test_oversize_text_is_refused_with_a_message(self):
        with self.assertRaisesMessage(IncidentActionError, "20000文字以内"):
            self.add(text="あ" * 20_001)

    def test_another_ward_cannot_write(self):
        with self.assertRaises(PermissionDenied):
            actions.add_timeline_entry(self.case, actor=self.alice, organization=self.ward_b, text="x")


class TaskTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.alice = make_user("alice", organization=cls.ward)
        cls.charlie = make_user("charlie", organization=cls.ward_b)

    def setUp(self):
        self.case = make_case(self.ward, actor=self.alice)

    def test_a_hand_made_task_comes_after_the_playbook(self):
        due = timezone.now() + datetime.timedelta(days=1)
        task = actions.add_task(
            self.case, actor=self.alice, organization=self.ward, title="委託先に連絡", due_at=due, assignee=self.alice
        )
        self.assertEqual((task.kind, task.due_at, task.assignee), ("custom", due, self.alice))
        self.assertEqual(list(self.case.tasks.all())[-1], task)

    def test_it_refuses_an_assignee_from_another_ward(self):
        with self.assertRaisesMessage(IncidentActionError, "この組織のメンバー"):
            actions.add_task(self.case, actor=self.alice, organization=self.ward, title="x", assignee=self.charlie)

    def test_done_and_undone(self):
        task = self.case.tasks.first()
        actions.complete_task(task, actor=self.alice, organization=self.ward)
        task.refresh_from_db()
        self.assertEqual(task.done_by, self.alice)
        self.assertFalse(task.is_open)
        with self.assertRaisesMessage(IncidentActionError, "すでに完了"):
            actions.complete_task(task, actor=self.alice, organization=self.ward)
        actions.reopen_task(task, actor=self.alice, organization=self.ward)
        task.refresh_from_db()
        self.assertTrue(task.is_open)
        self.assertEqual(
            list(AuditEntry.objects.filter(action__startswith="incident.task_").values_list("action", flat=True)),
            ["incident.task_reopened", "incident.task_completed"],
        )

    def test_another_ward_cannot_complete(self):
        task = self.case.tasks.first()
        with self.assertRaises(PermissionDenied):
            actions.complete_task(task, actor=self.charlie, organization=self.ward_b)
        task.refresh_from_db()
        self.assertIsNone(task.done_at)


class DutyContactTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.alice = make_user("alice", organization=cls.ward)

    def save(self, **fields):
        values = {"actor": self.alice, "name": "情報政策課 当番", "email": "duty@city-a.lg.jp"}
        return actions.save_duty_contact(self.ward, **{**values, **fields})

    def test_it_saves_weekdays_and_hours(self):
        contact = self.save(weekdays=[5, 1, 1], hours_start=datetime.time(8, 30), hours_end=datetime.time(17, 15))
        self.assertEqual(contact.weekdays, [1, 5])
        changed = self.save(contact=contact, email="night@city-a.lg.jp", active=False)
        self.assertEqual((changed.pk, changed.email, changed.active), (contact.pk, "night@city-a.lg.jp", False))
        self.assertEqual(
            list(AuditEntry.objects.filter(action__startswith="incident.duty_").values_list("action", flat=True)),
            ["incident.duty_contact_changed", "incident.duty_contact_added"],
        )

    def test_it_refuses_bad_addresses_days_and_half_hours(self):
        for address in ("not-an-address", "a@b", "duty@city-a.lg.jp\nBcc: all@example.com", "@city-a.lg.jp"):
            with self.subTest(address=address), self.assertRaisesMessage(IncidentActionError, "メールアドレス"):
                self.save(email=address)
        with self.assertRaisesMessage(IncidentActionError, "曜日"):
            self.save(weekdays=[8])
        with self.assertRaisesMessage(IncidentActionError, "開始と終了の両方"):
            self.save(hours_start=datetime.time(9))

    def test_another_ward_cannot_change_or_delete_it(self):
        contact = self.save()
        with self.assertRaises(PermissionDenied):
            actions.save_duty_contact(self.ward_b, actor=self.alice, name="x", email="x@x.jp", contact=contact)
        with self.assertRaises(PermissionDenied):
            actions.delete_duty_contact(contact, actor=self.alice, organization=self.ward_b)
        actions.delete_duty_contact(contact, actor=self.alice, organization=self.ward)
        self.assertTrue(AuditEntry.objects.filter(action="incident.duty_contact_deleted").exists())
