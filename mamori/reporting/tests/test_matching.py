import datetime
from urllib.parse import quote

from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.drills.links import click_url
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.actions import ingest_message
from mamori.reporting.models import Report
from mamori.reporting.tests.reported_mail import drill_mail, forward, suspicious_mail

Channel = Report.Channel


class DrillMatchingTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_running_campaign(cls.ward_a)
        cls.sent_at = timezone.now() - datetime.timedelta(minutes=30)
        cls.delivery = make_sent_delivery(cls.campaign, cls.person_a, sent_at=cls.sent_at)
        cls.colleague = make_person(cls.ward_a, "佐藤 次郎", email="sato@city-a.lg.jp")

    def ingest(self, raw: bytes, **options) -> Report:
        report = ingest_message(self.ward_a, raw, channel=Channel.MAILBOX, **options)
        report.refresh_from_db()
        return report

    def test_a_report_by_the_recipient_sets_the_delivery_report_time(self):
        received_at = self.sent_at + datetime.timedelta(minutes=12)

        report = self.ingest(forward(drill_mail(self.delivery), by="yamada@city-a.lg.jp"), received_at=received_at)

        self.delivery.refresh_from_db()
        self.assertEqual(report.state, Report.State.DRILL)
        self.assertEqual(report.delivery, self.delivery)
        self.assertTrue(report.by_recipient)
        self.assertTrue(report.first_by_recipient)
        self.assertEqual(report.seconds_since_sent, 12 * 60)
        self.assertIsNone(report.seconds_since_failure)
        self.assertEqual(self.delivery.reported_at, received_at)
        self.assertIsNone(report.cluster)

    def test_only_the_first_report_by_the_recipient_counts(self):
        first = self.sent_at + datetime.timedelta(minutes=5)
        self.ingest(forward(drill_mail(self.delivery), by="yamada@city-a.lg.jp"), received_at=first)

        again = self.ingest(
            forward(drill_mail(self.delivery), by="yamada@city-a.lg.jp"),
            received_at=first + datetime.timedelta(hours=1),
        )

        self.delivery.refresh_from_db()
        self.assertTrue(again.by_recipient)
        self.assertFalse(again.first_by_recipient)
        self.assertEqual(self.delivery.reported_at, first)

    def test_a_drill_reported_by_someone_else_is_recorded_as_such(self):
        report = self.ingest(forward(drill_mail(self.delivery), by="sato@city-a.lg.jp"))

        self.delivery.refresh_from_db()
        self.assertEqual(report.state, Report.State.DRILL)
        self.assertEqual(report.delivery, self.delivery)
        self.assertEqual(report.reporter, self.colleague)
        self.assertFalse(report.by_recipient)
        self.assertIsNone(self.delivery.reported_at)

    def test_clicked_then_reported_stores_the_time_from_the_click(self):
        clicked_at = self.sent_at + datetime.timedelta(minutes=3)
        self.delivery.first_clicked_at = clicked_at
        self.delivery.save(update_fields=["first_clicked_at"])

        report = self.ingest(
            forward(drill_mail(self.delivery), by="yamada@city-a.lg.jp"),
            received_at=clicked_at + datetime.timedelta(minutes=2),
        )

        self.assertEqual(report.seconds_since_failure, 120)
        self.assertEqual(report.seconds_since_sent, 300)
        self.assertEqual(report.thanks, Report.Thanks.CLICKED_DRILL)

    def test_it_matches_a_link_rewritten_by_a_safe_links_gateway(self):
        rewritten = (
            "https://apc01.safelinks.protection.outlook.com/?url="
            + quote(click_url(self.delivery.token), safe="")
            + "&data=05%7C02%7C&reserved=0"
        )
        raw = forward(suspicious_mail(urls=(rewritten,)), by="yamada@city-a.lg.jp")

        report = self.ingest(raw)

        self.assertEqual(report.delivery, self.delivery)

    def test_it_matches_the_drill_header(self):
        mail = suspicious_mail(urls=())
        mail["X-Mamori-Drill"] = self.delivery.token

        report = self.ingest(forward(mail, by="yamada@city-a.lg.jp"))

        self.assertEqual(report.delivery, self.delivery)

    def test_a_token_of_another_wards_drill_is_not_matched(self):
        other_delivery = make_sent_delivery(make_running_campaign(self.ward_b), self.person_b)

        report = self.ingest(forward(drill_mail(other_delivery), by="yamada@city-a.lg.jp"))

        other_delivery.refresh_from_db()
        self.assertEqual(report.state, Report.State.TRIAGE)
        self.assertIsNone(report.delivery)
        self.assertIsNone(other_delivery.reported_at)

    def test_a_real_mail_is_not_a_drill(self):
        report = self.ingest(forward(suspicious_mail(), by="yamada@city-a.lg.jp"))

        self.assertEqual(report.state, Report.State.TRIAGE)
        self.assertIsNone(report.delivery)
