"""Opening and editing cases: references, the opening transition, playbooks, copying from reports, majors."""

import datetime
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.test import TestCase, override_settings
from django.utils import timezone

from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_department, make_organization, make_person, make_user
from mamori.incidents import actions
from mamori.incidents.actions import IncidentActionError
from mamori.incidents.models import JST, Case, Task, Transition
from mamori.incidents.tests.makers import make_case
from mamori.reporting.models import IncidentReport, Report, ReportCluster


class OpenCaseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        cls.ward_b = make_organization("ward-b", "B区", domain="city-b.lg.jp")
        cls.alice = make_user("alice", organization=cls.ward)
        cls.charlie = make_user("charlie", organization=cls.ward_b)
        cls.tax = make_department(cls.ward, "区民部/税務課")
        cls.yamada = make_person(cls.ward, "山田 太郎", email="yamada@city-a.lg.jp", department=cls.tax)
        cls.suzuki = make_person(cls.ward_b, "鈴木 花子", email="suzuki@city-b.lg.jp")

    def test_references_run_per_ward_and_fiscal_year(self):
        march = datetime.datetime(2027, 3, 31, 10, 0, tzinfo=JST)
        april = datetime.datetime(2027, 4, 1, 10, 0, tzinfo=JST)
        with mock.patch("django.utils.timezone.now", return_value=march):
            first = make_case(self.ward)
            second = make_case(self.ward)
            other_ward = make_case(self.ward_b)
        with mock.patch("django.utils.timezone.now", return_value=april):
            next_year = make_case(self.ward)
        self.assertEqual([first.reference, second.reference], ["2026-0001", "2026-0002"])
        self.assertEqual(other_ward.reference, "2026-0001")
        self.assertEqual(next_year.reference, "2027-0001")

    def test_the_opening_transition_is_dated_at_detection(self):
        detected = timezone.now() - datetime.timedelta(hours=3)
        case = make_case(self.ward, actor=self.alice, detected_at=detected)
        opening = Transition.objects.get(case=case)
        self.assertEqual((opening.from_state, opening.to_state, opening.at), ("", "new", detected))
        self.assertEqual(opening.actor_organization, self.ward)
        self.assertLess(opening.at, case.created_at)

    def test_evidence_preservation_comes_first_in_the_playbook(self):
        case = make_case(self.ward, category=Case.Category.MALWARE)
        titles = list(case.tasks.filter(kind=Task.Kind.PLAYBOOK).values_list("title", flat=True))
        self.assertEqual(titles[0], "再起動・電源断をしない（メモリの保全を先に）")
        self.assertIn("ネットワークからの切り離しは指示に従って行う", titles)
        mail_case = make_case(self.ward, category=Case.Category.TARGETED_MAIL)
        self.assertEqual(mail_case.tasks.first().title, "メールを削除せず保全する（.eml で保存）")
        # Seed 000: whoever opened the attachment must not reboot or run the antivirus themselves.
        opened = mail_case.tasks.get(template_key="check_opened")
        self.assertIn("再起動・電源断をしない", opened.title)
        self.assertIn("ウイルス対策ソフトも自分では実行しません", opened.detail)

    def test_a_category_change_adds_only_the_missing_steps(self):
        case = make_case(self.ward, category=Case.Category.TARGETED_MAIL)
        before = set(case.tasks.values_list("template_key", flat=True))
        actions.update_case(case, actor=self.alice, organization=self.ward, category=Case.Category.MALWARE)
        keys = list(case.tasks.values_list("template_key", flat=True))
        self.assertEqual(len(keys), len(set(keys)), "no step twice (note_time is in both playbooks)")
        self.assertTrue(before < set(keys))
        self.assertIn("no_reboot", keys)

    def test_it_refuses_a_missing_title_a_future_time_and_a_bad_choice(self):
        with self.assertRaisesMessage(IncidentActionError, "件名を入力してください"):
            actions.open_case(self.ward, actor=self.alice, title="  ")
        with self.assertRaisesMessage(IncidentActionError, "未来の日時"):
            make_case(self.ward, detected_at=timezone.now() + datetime.timedelta(days=1))
        with self.assertRaises(IncidentActionError):
            make_case(self.ward, category="virus")
        with self.assertRaisesMessage(IncidentActionError, "発生日時が検知日時より後"):
            now = timezone.now()
            make_case(self.ward, detected_at=now - datetime.timedelta(hours=2), occurred_at=now)
        self.assertFalse(Case.objects.exists())

    def test_it_refuses_people_and_assignees_of_another_ward(self):
        with self.assertRaises(PermissionDenied):
            make_case(self.ward, reporter=self.suzuki)
        with self.assertRaisesMessage(IncidentActionError, "担当者にはこの組織のメンバー"):
            make_case(self.ward, assignee=self.charlie)
        self.assertFalse(Case.objects.exists())

    def test_opening_is_audited(self):
        case = make_case(self.ward, actor=self.alice)
        entry = AuditEntry.objects.get(action="incident.opened")
        self.assertEqual((entry.organization, entry.actor), (self.ward, self.alice))
        self.assertEqual(entry.details, {"case": str(case.public_id), "source": "hand"})


class OpenFromReportsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        cls.alice = make_user("alice", organization=cls.ward)
        cls.tax = make_department(cls.ward, "区民部/税務課")
        cls.yamada = make_person(cls.ward, "山田 太郎", email="yamada@city-a.lg.jp", department=cls.tax)
        cls.received = datetime.datetime(2026, 12, 3, 9, 12, tzinfo=JST)
        cls.sent = datetime.datetime(2026, 12, 3, 8, 55, tzinfo=JST)

    def make_report(self, **fields) -> Report:
        defaults = {
            "organization": self.ward,
            "channel": Report.Channel.MAILBOX,
            "state": Report.State.TRIAGE,
            "received_at": self.received,
            "sent_date": self.sent,
            "subject": "【至急】請求書の確認",
            "reporter": self.yamada,
            "reporter_email": "yamada@city-a.lg.jp",
        }
        return Report.objects.create(**{**defaults, **fields})

    def test_from_a_report_it_copies_subject_reporter_and_times(self):
        report = self.make_report()
        case = actions.open_case_from_report(report, actor=self.alice)
        self.assertEqual(case.title, "【至急】請求書の確認")
        self.assertEqual(case.category, Case.Category.TARGETED_MAIL)
        self.assertEqual(
            (case.detected_at, case.occurred_at, case.occurred_precision), (self.received, self.sent, "exact")
        )
        self.assertEqual((case.reporter, case.source_report), (self.yamada, report))
        self.assertEqual(case.transitions.get().at, self.received)

    def test_from_a_cluster_it_uses_the_first_report(self):
        cluster = ReportCluster.objects.create(
            organization=self.ward, subject="【至急】請求書の確認", report_count=2, first_reported_at=self.received
        )
        later = self.make_report(
            cluster=cluster, received_at=self.received + datetime.timedelta(minutes=30), reporter=None
        )
        first = self.make_report(cluster=cluster)
        case = actions.open_case_from_cluster(cluster, actor=self.alice, severity=Case.Severity.HIGH)
        self.assertEqual((case.source_cluster, case.source_report), (cluster, first))
        self.assertNotEqual(case.source_report, later)
        self.assertEqual((case.reporter, case.severity, case.detected_at), (self.yamada, "high", self.received))

    def test_an_unknown_reporter_is_kept_as_a_label(self):
        report = self.make_report(reporter=None, reporter_email="someone@example.com", sent_date=None)
        case = actions.open_case_from_report(report, actor=self.alice)
        self.assertEqual((case.reporter, case.reporter_label), (None, "someone@example.com"))
        self.assertEqual((case.occurred_at, case.occurred_precision), (None, "unknown"))

    def test_from_a_5w1h_report_it_copies_time_precision_department_and_summary(self):
        incident_report = IncidentReport.objects.create(
            organization=self.ward,
            occurred_at=datetime.datetime(2026, 12, 3, 14, 0, tzinfo=JST),
            occurred_precision=IncidentReport.WhenPrecision.HOUR,
            where="税務課の窓口端末",
            who="山田",
            what="添付ファイルを開いてしまった\n請求書.zip",
            outcome="画面が一瞬黒くなった",
            actions_taken=["kept_power", "told_manager"],
            identified_by=IncidentReport.Identification.ROSTER_EMAIL,
            reporter=self.yamada,
            department=self.tax,
            submitted_at=datetime.datetime(2026, 12, 3, 15, 5, tzinfo=JST),
        )
        case = actions.open_case_from_incident_report(incident_report, actor=self.alice, category=Case.Category.MALWARE)
        self.assertEqual(case.title, "添付ファイルを開いてしまった")
        self.assertEqual((case.occurred_precision, case.detected_at), ("hour", incident_report.submitted_at))
        self.assertEqual(list(case.affected_departments.all()), [self.tax])
        self.assertIn("どこで：税務課の窓口端末", case.summary)
        self.assertIn("再起動・シャットダウンはしていない、上長に伝えた", case.summary)
        self.assertEqual(case.source_incident_report, incident_report)
        self.assertEqual(AuditEntry.objects.get(action="incident.opened").details["source"], "incident_report")


class UpdateCaseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        cls.ward_b = make_organization("ward-b", "B区", domain="city-b.lg.jp")
        cls.alice = make_user("alice", organization=cls.ward)
        cls.other_department = make_department(cls.ward_b, "総務部")

    def setUp(self):
        self.case = make_case(self.ward, actor=self.alice)

    def update(self, **changes):
        return actions.update_case(self.case, actor=self.alice, organization=self.ward, **changes)

    def test_1000_records_make_a_major_incident_and_999_do_not(self):
        self.update(personal_records_count=999)
        self.assertFalse(Case.objects.get(pk=self.case.pk).is_major)
        self.update(personal_records_count=1000)
        self.assertTrue(Case.objects.get(pk=self.case.pk).is_major)

    def test_a_24_hour_outage_makes_a_major_incident(self):
        start = timezone.now() - datetime.timedelta(hours=30)
        self.update(service_outage_started_at=start, service_outage_ended_at=start + datetime.timedelta(hours=23))
        self.assertFalse(Case.objects.get(pk=self.case.pk).is_major)
        self.update(service_outage_ended_at=start + datetime.timedelta(hours=24))
        self.assertTrue(Case.objects.get(pk=self.case.pk).is_major)

    @override_settings(INCIDENTS_MAJOR_OUTAGE_HOURS=24)
    def test_an_ongoing_outage_is_flagged_by_the_worker_when_it_crosses_24_hours(self):
        self.update(service_outage_started_at=timezone.now() - datetime.timedelta(hours=23))
        self.assertFalse(actions.flag_long_outages())
        Case.objects.filter(pk=self.case.pk).update(
            service_outage_started_at=timezone.now() - datetime.timedelta(hours=25)
        )
        self.assertTrue(actions.flag_long_outages())
        self.assertTrue(Case.objects.get(pk=self.case.pk).is_major)
        self.assertFalse(actions.flag_long_outages())

    def test_it_refuses_an_outage_ending_before_it_starts(self):
        now = timezone.now()
        with self.assertRaisesMessage(IncidentActionError, "終了が開始より前"):
            self.update(service_outage_started_at=now, service_outage_ended_at=now - datetime.timedelta(hours=1))

    def test_it_refuses_unknown_record_kinds_and_other_wards_departments(self):
        with self.assertRaises(IncidentActionError):
            self.update(personal_record_kinds=["blood_type"])
        with self.assertRaises(PermissionDenied):
            self.update(affected_departments=[self.other_department])

    def test_another_ward_cannot_edit(self):
        with self.assertRaises(PermissionDenied):
            actions.update_case(self.case, actor=self.alice, organization=self.ward_b, title="乗っ取り")
        self.assertNotEqual(Case.objects.get(pk=self.case.pk).title, "乗っ取り")

    def test_the_detection_time_is_not_editable(self):
        with self.assertRaises(TypeError):
            self.update(detected_at=timezone.now())

    def test_the_audit_names_the_fields_not_the_values(self):
        self.update(title="標的型メール（税務課）", personal_records_count=12)
        entry = AuditEntry.objects.get(action="incident.updated")
        self.assertEqual(entry.details["fields"], ["personal_records_count", "title"])
        self.assertEqual(set(entry.details), {"case", "fields"})
