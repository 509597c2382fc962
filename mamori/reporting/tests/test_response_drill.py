"""Response drills: start, mails to the person and the manager, reports through personal links, the chain."""

import datetime
import re
from unittest import mock

from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.core.models import AuditEntry, Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person, make_user
from mamori.reporting import response_drills
from mamori.reporting.models import IncidentReport, ResponseDrill, ResponseDrillParticipant
from mamori.reporting.personal_links import personal_link_token
from mamori.reporting.tests.test_report_page import LOCAL_CACHE

REPORT = {
    "occurred_precision": "exact",
    "occurred_at": "2026-11-24T10:05",
    "where": "自席",
    "who": "私が",
    "what": "添付ファイルを実行した",
    "outcome": "",
    "actions_taken": ["stopped"],
}


def link_in(message) -> str:
    """The path of the personal report link in a mail."""
    return re.search(r"https?://[^/\s]+(/report/p/[^\s/]+/)", message.body).group(1)


@override_settings(CACHES=LOCAL_CACHE)
class ResponseDrillTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.manager = make_person(cls.ward_a, "佐藤 課長", email="sato@city-a.lg.jp", department=cls.general_affairs)
        cls.person_a.manager = cls.manager
        cls.person_a.save()
        cls.no_manager = make_person(cls.ward_a, "田中 一郎", email="tanaka@city-a.lg.jp", department=cls.tax)

    def setUp(self):
        cache.clear()
        self.addCleanup(cache.clear)

    def start(self, people=None) -> ResponseDrill:
        return response_drills.start_response_drill(
            self.ward_a,
            scenario=ResponseDrill.Scenario.ATTACHMENT_EXECUTED,
            title="第1回",
            people=people or [self.person_a],
            by=self.alice,
        )


class StartTests(ResponseDrillTestCase):
    def test_a_security_admin_starts_a_drill_and_everyone_gets_a_mail(self):
        self.login(self.alice)
        response = self.client.post(
            reverse("reporting:response-drills"),
            {"scenario": "attachment_executed", "title": "第1回", "emails": "yamada@city-a.lg.jp\ntanaka@city-a.lg.jp"},
        )
        drill = ResponseDrill.objects.get()
        self.assertRedirects(response, reverse("reporting:response-drill", args=[drill.public_id]))
        self.assertEqual(drill.organization, self.ward_a)
        self.assertEqual(drill.participants.count(), 2)
        participant = drill.participants.get(person=self.person_a)
        self.assertEqual(participant.manager, self.manager)
        self.assertIsNotNone(participant.notified_at)
        self.assertIsNotNone(participant.manager_notified_at)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["sato@city-a.lg.jp", "tanaka@city-a.lg.jp", "yamada@city-a.lg.jp"]
        )
        manager_mail = next(m for m in mail.outbox if m.to == ["sato@city-a.lg.jp"])
        self.assertIn("山田 太郎 さん", manager_mail.subject)
        self.assertIn("添付ファイルを実行してしまった", manager_mail.body)
        self.assertTrue(AuditEntry.objects.filter(action="reporting.response_drill_started").exists())

    def test_it_takes_the_staff_of_a_department_subtree(self):
        self.login(self.alice)
        self.client.post(
            reverse("reporting:response-drills"),
            {"scenario": "suspicious_traffic", "departments": [self.general_affairs.parent.parent.pk]},
        )
        people = set(ResponseDrillParticipant.objects.values_list("person__name", flat=True))
        self.assertEqual(people, {"山田 太郎", "佐藤 課長"})

    def test_it_refuses_addresses_outside_the_roster_including_ward_b(self):
        self.login(self.alice)
        response = self.client.post(
            reverse("reporting:response-drills"), {"scenario": "suspicious_traffic", "emails": "suzuki@city-b.lg.jp"}
        )
        self.assertContains(response, "名簿にない（または在籍していない）アドレスがあります")
        self.assertFalse(ResponseDrill.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_it_needs_someone(self):
        self.login(self.alice)
        response = self.client.post(reverse("reporting:response-drills"), {"scenario": "suspicious_traffic"})
        self.assertContains(response, "対象者がいません。")

    def test_an_auditor_may_not_start_or_see_drills(self):
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("reporting:response-drills")).status_code, 403)

    def test_csirt_sees_the_drills_but_cannot_start_one(self):
        csirt = make_user("csirt", organization=self.ward_a, role=Membership.Role.CSIRT)
        self.start()
        self.login(csirt)
        response = self.client.get(reverse("reporting:response-drills"))
        self.assertContains(response, "第1回")
        self.assertNotContains(response, 'id="drill-form"')
        response = self.client.post(reverse("reporting:response-drills"), {"scenario": "suspicious_traffic"})
        self.assertEqual(response.status_code, 403)

    def test_charlie_sees_none_of_ward_as_drills(self):
        drill = self.start()
        self.login(self.charlie)
        self.assertNotContains(self.client.get(reverse("reporting:response-drills")), "第1回")
        self.assertEqual(self.client.get(reverse("reporting:response-drill", args=[drill.public_id])).status_code, 404)
        participant = drill.participants.get()
        acknowledge = reverse("reporting:response-drill-acknowledge", args=[drill.public_id, participant.public_id])
        self.assertEqual(self.client.post(acknowledge).status_code, 404)
        self.assertEqual(
            self.client.post(reverse("reporting:response-drill-close", args=[drill.public_id])).status_code, 404
        )
        participant.refresh_from_db()
        self.assertIsNone(participant.acknowledged_at)

    def test_a_mail_failure_is_kept_on_the_participant(self):
        refused = ConnectionRefusedError("接続できません")
        with mock.patch("mamori.reporting.response_drills.EmailMultiAlternatives.send", side_effect=refused):
            drill = self.start()
        participant = drill.participants.get()
        self.assertIsNone(participant.notified_at)
        self.assertNotEqual(participant.notify_error, "")
        self.login(self.alice)
        self.assertContains(
            self.client.get(reverse("reporting:response-drill", args=[drill.public_id])), "メールを送れませんでした"
        )


class ChainTests(ResponseDrillTestCase):
    def test_the_person_and_the_manager_report_and_it_acknowledges(self):
        drill = self.start()
        person_link = link_in(next(m for m in mail.outbox if m.to == ["yamada@city-a.lg.jp"]))
        manager_link = link_in(next(m for m in mail.outbox if m.to == ["sato@city-a.lg.jp"]))
        page = self.client.get(person_link)
        self.assertContains(page, "これは初動対応訓練です（想定: 添付ファイルを実行してしまった）")
        self.client.post(person_link, REPORT)
        self.client.post(manager_link, {**REPORT, "who": "部下の山田が", "outcome": "LANケーブルはそのまま"})
        participant = drill.participants.get()
        self.assertEqual(participant.person_report.reporter, self.person_a)
        self.assertEqual(participant.manager_report.reporter, self.manager)

        self.login(self.alice)
        acknowledge = reverse("reporting:response-drill-acknowledge", args=[drill.public_id, participant.public_id])
        self.client.post(acknowledge)
        first = ResponseDrillParticipant.objects.get().acknowledged_at
        self.client.post(acknowledge)
        participant.refresh_from_db()
        self.assertEqual(participant.acknowledged_at, first)
        self.assertEqual(participant.acknowledged_by, self.alice)

        response = self.client.get(reverse("reporting:response-drill", args=[drill.public_id]))
        row = response.context["rows"][0]
        self.assertEqual(row.person_filled, 5)
        self.assertEqual(row.manager_filled, 6)
        self.assertIsNotNone(row.to_person)
        self.assertGreaterEqual(row.person_to_manager, datetime.timedelta(0))
        self.assertIsNotNone(row.to_it)
        self.assertContains(response, "届いた（5/6）")
        self.assertContains(response, "届いた（6/6）")
        summary = response.context["summary"]
        self.assertEqual(
            (summary.people, summary.person_reports, summary.manager_reports, summary.acknowledged), (1, 1, 1, 1)
        )

    def test_only_the_first_report_of_each_counts(self):
        drill = self.start()
        link = reverse(
            "reporting:report-personal",
            args=[personal_link_token(self.person_a, participant_id=drill.participants.get().public_id)],
        )
        self.client.post(link, REPORT)
        self.client.post(link, REPORT)
        participant = drill.participants.get()
        self.assertEqual(IncidentReport.objects.count(), 2)
        self.assertEqual(participant.person_report, IncidentReport.objects.order_by("submitted_at").first())
        self.assertIsNone(participant.manager_report)

    def test_a_closed_drill_files_an_ordinary_report(self):
        drill = self.start()
        self.login(self.alice)
        self.client.post(reverse("reporting:response-drill-close", args=[drill.public_id]))
        drill.refresh_from_db()
        self.assertFalse(drill.is_open)
        link = link_in(mail.outbox[0] if mail.outbox[0].to == ["yamada@city-a.lg.jp"] else mail.outbox[1])
        self.client.logout()
        self.assertNotContains(self.client.get(link), "これは初動対応訓練です")
        self.client.post(link, REPORT)
        self.assertTrue(IncidentReport.objects.exists())
        self.assertIsNone(drill.participants.get().person_report)

    def test_a_link_naming_another_wards_participant_is_not_attached(self):
        drill_b = response_drills.start_response_drill(
            self.ward_b,
            scenario=ResponseDrill.Scenario.SUSPICIOUS_TRAFFIC,
            title="",
            people=[self.person_b],
            by=self.charlie,
        )
        participant_b = drill_b.participants.get()
        link = reverse(
            "reporting:report-personal",
            args=[personal_link_token(self.person_a, participant_id=participant_b.public_id)],
        )
        self.client.post(link, REPORT)
        participant_b.refresh_from_db()
        self.assertIsNone(participant_b.person_report)
        self.assertEqual(IncidentReport.objects.get().organization, self.ward_a)

    def test_someone_else_in_the_drill_cannot_fill_the_persons_slot(self):
        drill = self.start()
        participant = drill.participants.get()
        link = reverse(
            "reporting:report-personal",
            args=[personal_link_token(self.no_manager, participant_id=participant.public_id)],
        )
        self.client.post(link, REPORT)
        participant.refresh_from_db()
        self.assertIsNone(participant.person_report)
        self.assertIsNone(participant.manager_report)

    def test_a_person_without_a_manager_gets_one_mail(self):
        drill = self.start([self.no_manager])
        participant = drill.participants.get()
        self.assertIsNone(participant.manager)
        self.assertIsNone(participant.manager_notified_at)
        self.assertEqual(len(mail.outbox), 1)


class DrillPageCostTests(ResponseDrillTestCase):
    def queries_for(self, drill) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(
                self.client.get(reverse("reporting:response-drill", args=[drill.public_id])).status_code, 200
            )
        return len(queries)

    def test_the_drill_page_costs_the_same_for_more_people(self):
        self.login(self.alice)
        small = self.queries_for(self.start([self.person_a]))
        others = [make_person(self.ward_a, f"職員{n}", manager=self.manager) for n in range(5)]
        large = self.start([self.person_a, self.no_manager, *others])
        for participant in large.participants.all()[:3]:
            self.client.post(
                reverse(
                    "reporting:report-personal",
                    args=[personal_link_token(participant.person, participant_id=participant.public_id)],
                ),
                REPORT,
            )
        self.assertEqual(self.queries_for(large), small)


class DurationLabelTests(BaseTestCase):
    def test_it_writes_spans_in_japanese(self):
        label = response_drills.duration_label
        self.assertEqual(label(None), "—")
        self.assertEqual(label(datetime.timedelta(seconds=59)), "0分")
        self.assertEqual(label(datetime.timedelta(minutes=65)), "1時間5分")
        self.assertEqual(label(datetime.timedelta(days=2, hours=3)), "2日3時間")
        self.assertEqual(label(-datetime.timedelta(minutes=5)), "−5分")

    def test_completeness_counts_the_five_ws_and_the_actions(self):
        report = IncidentReport(
            occurred_precision="unknown", what="x", actions_note="連絡した", occurred_at=timezone.now()
        )
        self.assertEqual(report.filled_parts(), 2)
