from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person, make_user
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.actions import ingest_message
from mamori.reporting.models import Report, ReportCluster
from mamori.reporting.tests.reported_mail import drill_mail, forward, suspicious_mail

Channel = Report.Channel


class TriageViewTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.csirt = make_user("csirt", organization=cls.ward_a, role=Membership.Role.CSIRT)

    def setUp(self):
        self.report = ingest_message(
            self.ward_a,
            forward(
                suspicious_mail(subject="【重要】メールボックスの容量", attachment=("invoice.html", b"<html>")),
                by="yamada@city-a.lg.jp",
            ),
            channel=Channel.MAILBOX,
        )
        self.cluster = self.report.cluster

    def test_the_queue_lists_pending_items_with_their_reporter_count(self):
        self.login(self.csirt)

        response = self.client.get(reverse("reporting:triage"))

        self.assertContains(response, "【重要】メールボックスの容量")
        self.assertContains(response, reverse("reporting:cluster", args=[self.cluster.public_id]))
        self.assertEqual(response.context["page"].object_list[0].reporter_count, 1)

    def test_the_queue_filters_by_verdict(self):
        self.cluster.verdict = ReportCluster.Verdict.SPAM
        self.cluster.save()
        self.login(self.alice)

        pending = self.client.get(reverse("reporting:triage"))
        spam = self.client.get(reverse("reporting:triage") + "?verdict=spam")

        self.assertNotContains(pending, "【重要】メールボックスの容量")
        self.assertContains(spam, "【重要】メールボックスの容量")

    def test_the_queue_costs_the_same_with_more_items(self):
        self.login(self.alice)
        url = reverse("reporting:triage")
        with CaptureQueriesContext(connection) as one_item:
            self.client.get(url)
        for number in range(5):
            ReportCluster.objects.create(organization=self.ward_a, subject=f"別件 {number}")

        with self.assertNumQueries(len(one_item)):
            response = self.client.get(url)

        self.assertContains(response, "別件 4")

    def test_the_detail_shows_indicators_defanged(self):
        self.login(self.csirt)

        response = self.client.get(reverse("reporting:cluster", args=[self.cluster.public_id]))

        self.assertContains(response, "hxxps://evil-login[.]example/verify")
        self.assertNotContains(response, "https://evil-login.example")
        self.assertContains(response, "support[@]evil-login[.]example")
        self.assertContains(response, "invoice.html")
        self.assertContains(response, "山田 太郎")
        # The triage item opens a CSIRT case, with the cluster carried over.
        self.assertContains(response, "インシデントとして登録")
        self.assertContains(response, f'href="/incidents/new/?cluster={self.cluster.public_id}"')

    def test_a_triager_marks_a_cluster_phishing(self):
        self.login(self.csirt)

        response = self.client.post(
            reverse("reporting:cluster-verdict", args=[self.cluster.public_id]),
            {"verdict": "phishing", "note": "偽ログイン画面"},
        )

        self.assertRedirects(response, reverse("reporting:cluster", args=[self.cluster.public_id]))
        self.cluster.refresh_from_db()
        self.report.refresh_from_db()
        self.assertEqual(self.cluster.verdict, ReportCluster.Verdict.PHISHING)
        self.assertEqual(self.cluster.verdict_by, self.csirt)
        self.assertEqual(self.report.state, Report.State.TRIAGED)

    def test_it_refuses_an_unknown_verdict(self):
        self.login(self.alice)

        self.client.post(reverse("reporting:cluster-verdict", args=[self.cluster.public_id]), {"verdict": "evil"})

        self.cluster.refresh_from_db()
        self.assertEqual(self.cluster.verdict, ReportCluster.Verdict.PENDING)

    def test_a_drill_report_shows_whose_delivery_it_was(self):
        colleague = make_person(self.ward_a, "佐藤 次郎", email="sato@city-a.lg.jp")
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        report = ingest_message(self.ward_a, forward(drill_mail(delivery), by=colleague.email), channel=Channel.MAILBOX)
        self.login(self.alice)

        response = self.client.get(reverse("reporting:report-detail", args=[report.public_id]))

        self.assertContains(response, "受信者（山田 太郎）以外からの報告")

    def test_the_original_is_a_download_and_is_audited(self):
        self.login(self.csirt)

        response = self.client.get(reverse("reporting:report-original", args=[self.report.public_id]))

        self.assertEqual(response["Content-Type"], "application/octet-stream")
        self.assertIn("attachment;", response["Content-Disposition"])
        self.assertEqual(response.content, bytes(self.report.original.content))
        self.assertTrue(self.ward_a.audit_entries.filter(action="reporting.original_downloaded").exists())

    def test_unparseable_reports_are_listed_for_a_person(self):
        with (
            mock.patch("mamori.reporting.actions.parse_report", side_effect=RuntimeError("parser bug")),
            self.assertLogs("mamori.reporting.actions", "ERROR"),
        ):
            broken = ingest_message(self.ward_a, b"\x00broken", channel=Channel.MAILBOX)
        self.login(self.alice)

        response = self.client.get(reverse("reporting:attention"))

        self.assertContains(response, reverse("reporting:report-original", args=[broken.public_id]))

    def test_an_auditor_may_not_triage(self):
        self.login(self.bob)

        self.assertEqual(self.client.get(reverse("reporting:triage")).status_code, 403)
        self.assertEqual(self.client.get(reverse("reporting:cluster", args=[self.cluster.public_id])).status_code, 403)

    def test_charlie_sees_nothing_of_ward_a(self):
        self.login(self.charlie)

        queue = self.client.get(reverse("reporting:triage") + "?verdict=all")
        detail = self.client.get(reverse("reporting:cluster", args=[self.cluster.public_id]))
        report = self.client.get(reverse("reporting:report-detail", args=[self.report.public_id]))
        original = self.client.get(reverse("reporting:report-original", args=[self.report.public_id]))
        verdict = self.client.post(
            reverse("reporting:cluster-verdict", args=[self.cluster.public_id]), {"verdict": "benign"}
        )

        self.assertNotContains(queue, "メールボックスの容量")
        self.assertEqual([detail.status_code, report.status_code, original.status_code, verdict.status_code], [404] * 4)
        self.cluster.refresh_from_db()
        self.assertEqual(self.cluster.verdict, ReportCluster.Verdict.PENDING)

    def test_the_navigation_links_to_the_queue(self):
        self.login(self.alice)

        response = self.client.get(reverse("reporting:triage"))

        self.assertContains(response, f'href="{reverse("reporting:triage")}"')
