"""The ward's case pages: opening a case (by hand, from a triage item, from a 5W1H report), the case page,
editing, and moving it through its states to a close with a resolution."""

import datetime

from django.urls import reverse
from django.utils import timezone

from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.incidents.models import Case, Task, TimePrecision, Transition
from mamori.incidents.tests.makers import make_case
from mamori.reporting.models import IncidentReport, Report, ReportCluster

JST = datetime.timezone(datetime.timedelta(hours=9))


class CaseViewTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt-a", organization=cls.ward_a, role=Membership.Role.CSIRT)

    def case_url(self, case, name="incidents:case-detail") -> str:
        return reverse(name, args=[case.public_id])


class OpeningByHandTests(CaseViewTestCase):
    def form_data(self, **overrides) -> dict:
        data = {
            "title": "税務課の端末でマルウェア検知",
            "category": Case.Category.MALWARE,
            "severity": Case.Severity.HIGH,
            "summary": "ウイルス対策ソフトが警告を表示した",
            "detected_precision": TimePrecision.EXACT,
            "detected_at": "2026-12-01T09:30",
            "occurred_precision": TimePrecision.HOUR,
            "occurred_at": "2026-12-01T08:40",
            "affected_departments": [self.tax.pk],
            "affected_systems": "財務会計システム\n税務課ファイルサーバー\n",
            "affected_people": "yamada@city-a.lg.jp",
            "personal_records_count": "150",
            "personal_record_kinds": ["name_address"],
            "reporter": self.person_a.employee_number,
            "reporter_label": "",
            "assignee": str(self.csirt.pk),
            "tlp": Case.TLP.AMBER_STRICT,
        }
        data.update(overrides)
        return data

    def test_the_csirt_opens_a_case_by_hand_with_every_fact(self):
        self.login(self.csirt)

        response = self.client.post(reverse("incidents:case-new"), self.form_data())

        case = Case.objects.get(organization=self.ward_a)
        self.assertRedirects(response, self.case_url(case))
        self.assertEqual(case.detected_at, datetime.datetime(2026, 12, 1, 9, 30, tzinfo=JST))
        # 「8時台」: what is not known (the minutes) is not stored.
        self.assertEqual(case.occurred_at, datetime.datetime(2026, 12, 1, 8, 0, tzinfo=JST))
        self.assertEqual(case.occurred_precision, TimePrecision.HOUR)
        self.assertEqual(case.affected_systems, ["財務会計システム", "税務課ファイルサーバー"])
        self.assertEqual(list(case.affected_people.all()), [self.person_a])
        self.assertEqual(list(case.affected_departments.all()), [self.tax])
        self.assertEqual(case.reporter, self.person_a)
        self.assertEqual(case.assignee, self.csirt)
        self.assertEqual(case.personal_records_count, 150)
        # More than 100 people: the legal clock's two tasks exist, with due dates.
        legal = case.tasks.filter(kind__in=Task.LEGAL_KINDS)
        self.assertEqual(legal.count(), 2)
        opening = Transition.objects.get(case=case)
        self.assertEqual((opening.from_state, opening.to_state, opening.at), ("", "new", case.detected_at))

        page = self.client.get(self.case_url(case))
        self.assertContains(page, "2026年12月1日 8時台")
        self.assertContains(page, "2026年12月1日 09:30")
        self.assertContains(page, "個人情報保護委員会への速報")
        self.assertContains(page, "本人の数が100人を超える")

    def test_a_missing_time_is_explained_and_what_was_typed_stays(self):
        self.login(self.csirt)

        response = self.client.post(reverse("incidents:case-new"), self.form_data(occurred_at=""))

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "日時を入力するか、「分からない」を選んでください。")
        self.assertContains(response, "税務課の端末でマルウェア検知")
        self.assertFalse(Case.objects.exists())

    def test_an_unknown_person_is_refused_by_name(self):
        self.login(self.csirt)

        response = self.client.post(
            reverse("incidents:case-new"), self.form_data(affected_people="nobody@city-a.lg.jp")
        )

        self.assertContains(response, "名簿に見つかりません: nobody@city-a.lg.jp")
        self.assertFalse(Case.objects.exists())

    def test_a_ward_b_person_cannot_be_named_in_ward_a(self):
        self.login(self.csirt)

        response = self.client.post(reverse("incidents:case-new"), self.form_data(reporter=self.person_b.email))

        self.assertContains(response, "名簿に見つかりません")
        self.assertFalse(Case.objects.exists())

    def test_the_auditor_cannot_open_a_case(self):
        self.login(self.bob)

        self.assertEqual(self.client.get(reverse("incidents:case-new")).status_code, 403)
        self.assertEqual(self.client.post(reverse("incidents:case-new"), self.form_data()).status_code, 403)


class OpeningFromReportsTests(CaseViewTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        received = datetime.datetime(2026, 12, 2, 10, 15, tzinfo=JST)
        cls.cluster = ReportCluster.objects.create(
            organization=cls.ward_a, subject="【至急】請求書の確認", first_reported_at=received, report_count=1
        )
        cls.report = Report.objects.create(
            organization=cls.ward_a,
            channel=Report.Channel.MAILBOX,
            state=Report.State.TRIAGE,
            cluster=cls.cluster,
            subject="【至急】請求書の確認",
            received_at=received,
            sent_date=received - datetime.timedelta(minutes=20),
            reporter=cls.person_a,
            reporter_email=cls.person_a.email,
        )
        cls.incident_report = IncidentReport.objects.create(
            organization=cls.ward_a,
            occurred_at=datetime.datetime(2026, 12, 3, 14, 0, tzinfo=JST),
            occurred_precision=IncidentReport.WhenPrecision.HOUR,
            where="税務課の自席",
            who="私が",
            what="USBメモリを紛失した\n住民の名簿が入っていた",
            outcome="見つからない",
            identified_by=IncidentReport.Identification.ROSTER_EMAIL,
            reporter=cls.person_a,
            department=cls.tax,
            submitted_at=datetime.datetime(2026, 12, 3, 16, 5, tzinfo=JST),
        )

    def test_the_triage_page_offers_to_open_a_case(self):
        self.login(self.csirt)

        page = self.client.get(reverse("reporting:cluster", args=[self.cluster.public_id]))

        self.assertContains(page, f"{reverse('incidents:case-new')}?cluster={self.cluster.public_id}")
        self.assertContains(page, "インシデントとして登録")

    def test_a_case_from_one_reported_mail_dates_the_occurrence_at_its_sending(self):
        self.login(self.csirt)
        report_page = self.client.get(reverse("reporting:report-detail", args=[self.report.public_id]))
        url = f"{reverse('incidents:case-new')}?report={self.report.public_id}"
        self.assertContains(report_page, url)

        self.client.post(url, {"title": "請求書メール", "category": "targeted_mail", "severity": "low", "tlp": "AMBER"})

        case = Case.objects.get()
        self.assertEqual(case.source_report, self.report)
        self.assertEqual(case.detected_at, self.report.received_at)
        self.assertEqual((case.occurred_at, case.occurred_precision), (self.report.sent_date, TimePrecision.EXACT))
        self.assertEqual((case.severity, case.tlp), (Case.Severity.LOW, Case.TLP.AMBER))

    def test_a_case_from_a_cluster_keeps_the_reception_time_and_the_reporter(self):
        self.login(self.csirt)
        url = f"{reverse('incidents:case-new')}?cluster={self.cluster.public_id}"

        form = self.client.get(url)
        self.assertContains(form, "【至急】請求書の確認")
        response = self.client.post(
            url,
            {"title": "【至急】請求書の確認", "category": "targeted_mail", "severity": "medium", "tlp": "AMBER+STRICT"},
        )

        case = Case.objects.get()
        self.assertRedirects(response, reverse("incidents:case-detail", args=[case.public_id]))
        self.assertEqual(case.source_cluster, self.cluster)
        self.assertEqual(case.detected_at, self.report.received_at)
        self.assertEqual(case.reporter, self.person_a)
        self.assertEqual(Transition.objects.get(case=case).at, self.report.received_at)
        # The targeted-mail playbook starts with keeping the mail.
        self.assertTrue(case.tasks.filter(template_key="keep_mail").exists())
        # Opening it again warns that a case exists already.
        self.assertContains(self.client.get(url), case.reference)

    def test_a_case_from_a_5w1h_report_keeps_its_precision(self):
        self.login(self.csirt)
        new_page = self.client.get(reverse("incidents:case-new"))
        link = f"{reverse('incidents:case-new')}?incident_report={self.incident_report.public_id}"
        self.assertContains(new_page, link.replace("&", "&amp;"))

        response = self.client.post(
            link, {"title": "USBメモリの紛失", "category": "loss_theft", "severity": "high", "tlp": "RED"}
        )

        case = Case.objects.get()
        self.assertEqual(response.status_code, 302)
        self.assertEqual(case.source_incident_report, self.incident_report)
        self.assertEqual(case.occurred_precision, TimePrecision.HOUR)
        self.assertIn("税務課の自席", case.summary)
        page = self.client.get(reverse("incidents:case-detail", args=[case.public_id]))
        self.assertContains(page, "2026年12月3日 14時台")
        # Once a case exists, the report is no longer offered.
        self.assertNotContains(self.client.get(reverse("incidents:case-new")), str(self.incident_report.public_id))

    def test_charlie_cannot_open_a_case_from_ward_as_report(self):
        self.login(self.charlie)

        for query in (f"cluster={self.cluster.public_id}", f"incident_report={self.incident_report.public_id}"):
            url = f"{reverse('incidents:case-new')}?{query}"
            self.assertEqual(self.client.get(url).status_code, 404)
            self.assertEqual(self.client.post(url, {"title": "x", "category": "other"}).status_code, 404)
        self.assertFalse(Case.objects.exists())

    def test_a_malformed_source_id_is_not_found(self):
        self.login(self.csirt)

        self.assertEqual(self.client.get(reverse("incidents:case-new") + "?cluster=not-a-uuid").status_code, 404)


class CasePageTests(CaseViewTestCase):
    def setUp(self):
        self.case = make_case(
            self.ward_a,
            actor=self.csirt,
            title="不審メールの添付を開いた",
            category=Case.Category.TARGETED_MAIL,
            detected_at=timezone.now() - datetime.timedelta(hours=3),
        )

    def transition(self, to_state, **data):
        return self.client.post(self.case_url(self.case, "incidents:case-transition"), {"to_state": to_state, **data})

    def test_the_case_moves_through_its_states_and_closes_with_a_resolution(self):
        self.login(self.csirt)

        for state in ("triage", "in_progress", "contained", "eradicated", "recovered"):
            response = self.transition(state, note=f"{state} へ")
            self.assertRedirects(response, self.case_url(self.case))
        refused = self.transition("closed", note="終わり")
        self.assertEqual(refused.status_code, 400)
        self.assertContains(refused, "完了にするには、完了の理由を選んでください。", status_code=400)
        self.assertContains(refused, "終わり", status_code=400)
        self.transition("closed", resolution="resolved", note="端末を初期化し再発防止策を周知")

        self.case.refresh_from_db()
        self.assertEqual(self.case.state, Case.State.CLOSED)
        self.assertEqual(self.case.resolution, Case.Resolution.RESOLVED)
        self.assertEqual(
            list(self.case.transitions.values_list("to_state", flat=True)),
            ["new", "triage", "in_progress", "contained", "eradicated", "recovered", "closed"],
        )
        page = self.client.get(self.case_url(self.case))
        self.assertContains(page, "対応完了")
        self.assertContains(page, "再開する（対応中）")
        self.assertTrue(AuditEntry.objects.filter(action="incident.transition", organization=self.ward_a).exists())

    def test_skipping_to_closed_is_refused(self):
        self.login(self.csirt)
        self.transition("triage")
        self.transition("in_progress")

        response = self.transition("closed", resolution="resolved")

        self.assertEqual(response.status_code, 400)
        self.case.refresh_from_db()
        self.assertEqual(self.case.state, Case.State.IN_PROGRESS)

    def test_a_false_alarm_closes_from_triage_with_only_the_triage_resolutions(self):
        self.login(self.csirt)
        self.transition("triage")

        page = self.client.get(self.case_url(self.case))
        self.assertContains(page, "誤検知・問題なし")
        self.assertNotContains(page, '<option value="resolved"')
        self.assertEqual(self.transition("closed", resolution="resolved").status_code, 400)
        self.transition("closed", resolution="false_positive")

        self.case.refresh_from_db()
        self.assertEqual(self.case.resolution, Case.Resolution.FALSE_POSITIVE)

    def test_the_page_shows_the_playbook_first_and_the_state_buttons(self):
        self.login(self.csirt)

        page = self.client.get(self.case_url(self.case))

        self.assertContains(page, "メールを削除せず保全する（.eml で保存）")
        self.assertContains(page, 'id="to-triage"')
        self.assertNotContains(page, 'id="to-closed"')

    def test_the_auditor_reads_but_sees_no_buttons_and_cannot_post(self):
        self.login(self.bob)

        page = self.client.get(self.case_url(self.case))

        self.assertContains(page, "不審メールの添付を開いた")
        self.assertNotContains(page, 'id="to-triage"')
        self.assertNotContains(page, 'id="timeline-form"')
        self.assertEqual(self.transition("triage").status_code, 403)
        self.assertEqual(self.client.get(self.case_url(self.case, "incidents:case-edit")).status_code, 403)

    def test_editing_the_records_count_flags_a_major_incident(self):
        self.login(self.csirt)
        form = self.client.get(self.case_url(self.case, "incidents:case-edit"))
        self.assertContains(form, "不審メールの添付を開いた")

        response = self.client.post(
            self.case_url(self.case, "incidents:case-edit"),
            {
                "title": "不審メールの添付を開いた",
                "category": "targeted_mail",
                "severity": "critical",
                "occurred_precision": "unknown",
                "personal_records_count": "1200",
                "personal_record_kinds": ["name_address", "my_number"],
                "tlp": "AMBER+STRICT",
            },
        )

        self.assertRedirects(response, self.case_url(self.case))
        self.case.refresh_from_db()
        self.assertTrue(self.case.is_major)
        page = self.client.get(self.case_url(self.case))
        self.assertContains(page, "個人情報 1,000 件以上")

    def test_charlie_gets_404_for_ward_as_case(self):
        self.login(self.charlie)

        for name in ("incidents:case-detail", "incidents:case-edit"):
            self.assertEqual(self.client.get(self.case_url(self.case, name)).status_code, 404)
        self.assertEqual(self.transition("triage").status_code, 404)
        self.case.refresh_from_db()
        self.assertEqual(self.case.state, Case.State.NEW)
