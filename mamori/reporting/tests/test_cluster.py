import datetime

from django.test import SimpleTestCase
from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.reporting import clustering
from mamori.reporting.actions import ingest_message, set_verdict
from mamori.reporting.models import Report, ReportCluster
from mamori.reporting.tests.reported_mail import forward, suspicious_mail

Channel = Report.Channel


class SimilarityKeyTests(SimpleTestCase):
    def test_it_strips_reply_forward_prefixes_and_gateway_tags(self):
        for subject in ("RE: FW: 【重要】請求書 2024", "転送: [EXTERNAL] 【重要】請求書 2025", "Fwd：【重要】請求書 7"):
            with self.subTest(subject=subject):
                self.assertEqual(clustering.subject_key(subject), "請求書 #")

    def test_it_folds_width_and_case(self):
        self.assertEqual(clustering.subject_key("ＰＡＳＳＷＯＲＤ　期限"), clustering.subject_key("password 期限"))

    def test_url_keys_ignore_per_recipient_query_strings(self):
        self.assertEqual(
            clustering.url_keys(["https://Evil.example/login?id=1", "https://evil.example/login/?id=2#x"]),
            ["evil.example/login"],
        )

    def test_two_of_three_signals_make_reports_near_identical(self):
        self.assertEqual(clustering.agreeing_signals("a", "x@e", ["e/1"], "a", "y@e", ["e/1"]), 2)
        self.assertEqual(clustering.agreeing_signals("a", "x@e", [], "b", "x@e", []), 1)
        self.assertEqual(clustering.agreeing_signals("", "", [], "", "", []), 0)


class ClusterTests(BaseTestCase):
    def ingest(self, mail, by: str) -> Report:
        return ingest_message(self.ward_a, forward(mail, by=by), channel=Channel.MAILBOX)

    def test_a_phish_reported_by_thirty_staff_is_one_item_with_thirty_reporters(self):
        staff = [make_person(self.ward_a, f"職員{number}") for number in range(30)]

        for number, person in enumerate(staff):
            self.ingest(suspicious_mail(urls=(f"https://evil-login.example/verify?u={number}",)), by=person.email)

        cluster = ReportCluster.objects.get(organization=self.ward_a)
        self.assertEqual(cluster.report_count, 30)
        self.assertEqual(cluster.reporter_count, 30)
        self.assertEqual(cluster.reports.filter(state=Report.State.TRIAGE).count(), 30)

    def test_near_identical_variants_join_one_item(self):
        first = self.ingest(suspicious_mail(subject="【重要】アカウント確認 No.1234"), by="yamada@city-a.lg.jp")
        other_sender = self.ingest(
            suspicious_mail(subject="RE: 【重要】アカウント確認 No.9876", sender="botnet-42@elsewhere.example"),
            by="a@city-a.lg.jp",
        )
        other_subject = self.ingest(suspicious_mail(subject="ご確認のお願い"), by="b@city-a.lg.jp")

        self.assertEqual({other_sender.cluster_id, other_subject.cluster_id}, {first.cluster_id})

    def test_a_different_phish_starts_its_own_item(self):
        first = self.ingest(suspicious_mail(), by="yamada@city-a.lg.jp")
        other = self.ingest(
            suspicious_mail(subject="荷物のお届け", sender="info@parcel.example", urls=("https://parcel.example/t",)),
            by="yamada@city-a.lg.jp",
        )

        self.assertNotEqual(first.cluster_id, other.cluster_id)

    def test_one_person_reporting_twice_counts_as_one_reporter(self):
        self.ingest(suspicious_mail(), by="yamada@city-a.lg.jp")
        self.ingest(suspicious_mail(), by="YAMADA@city-a.lg.jp")

        cluster = ReportCluster.objects.get(organization=self.ward_a)
        self.assertEqual((cluster.report_count, cluster.reporter_count), (2, 1))

    def test_a_late_arriving_older_report_extends_the_item_backwards_only(self):
        now = timezone.now()
        ingest_message(self.ward_a, forward(suspicious_mail(), by="yamada@city-a.lg.jp"), channel=Channel.MAILBOX)
        older = now - datetime.timedelta(hours=2)
        ingest_message(
            self.ward_a, forward(suspicious_mail(), by="sato@city-a.lg.jp"), channel=Channel.MAILBOX, received_at=older
        )

        cluster = ReportCluster.objects.get(organization=self.ward_a)
        self.assertGreaterEqual(cluster.last_reported_at, now)
        self.assertEqual(cluster.first_reported_at, older)
        self.assertEqual(cluster.report_count, 2)

    def test_clusters_stay_within_their_ward(self):
        self.ingest(suspicious_mail(), by="yamada@city-a.lg.jp")
        ingest_message(self.ward_b, forward(suspicious_mail(), by="suzuki@city-b.lg.jp"), channel=Channel.MAILBOX)

        self.assertEqual(ReportCluster.objects.filter(organization=self.ward_a).get().report_count, 1)
        self.assertEqual(ReportCluster.objects.filter(organization=self.ward_b).get().report_count, 1)

    def test_a_verdict_judges_every_report_and_later_ones_too(self):
        first = self.ingest(suspicious_mail(), by="yamada@city-a.lg.jp")

        set_verdict(first.cluster, ReportCluster.Verdict.PHISHING, note="認証情報の窃取", by=self.alice)
        later = self.ingest(suspicious_mail(), by="sato@city-a.lg.jp")

        first.refresh_from_db()
        self.assertEqual(first.state, Report.State.TRIAGED)
        self.assertEqual(later.state, Report.State.TRIAGED)
        self.assertEqual(later.cluster_id, first.cluster_id)

    def test_setting_a_verdict_is_audited(self):
        report = self.ingest(suspicious_mail(), by="yamada@city-a.lg.jp")

        set_verdict(report.cluster, ReportCluster.Verdict.SPAM, by=self.alice)

        entry = self.ward_a.audit_entries.get(action="reporting.verdict")
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.details["verdict"], "spam")
