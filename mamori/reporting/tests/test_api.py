from django.core import mail
from django.test import override_settings

from mamori.accounts.models import APIToken
from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_user
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.models import Report
from mamori.reporting.tests.reported_mail import drill_mail, suspicious_mail

URL = "/api/v1/reports"


class ReportAPITests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        _, cls.alice_token = APIToken.issue(user=cls.alice, organization=cls.ward_a, name="outlook-addin")
        _, cls.charlie_token = APIToken.issue(user=cls.charlie, organization=cls.ward_b, name="charlie")
        cls.delivery = make_sent_delivery(make_running_campaign(cls.ward_a), cls.person_a)

    def post(self, raw: bytes, *, token: str | None = None, reporter: str = ""):
        query = f"?reporter={reporter}" if reporter else ""
        return self.client.generic(
            "POST",
            URL + query,
            raw,
            content_type="message/rfc822",
            headers={"Authorization": f"Bearer {token or self.alice_token}"},
        )

    def test_an_add_in_reports_a_drill_for_its_user(self):
        response = self.post(drill_mail(self.delivery).as_bytes(), reporter="yamada@city-a.lg.jp")

        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["state"], "drill")
        self.assertTrue(body["drill"])
        self.assertTrue(body["by_recipient"])
        self.assertEqual(
            body["delivery"],
            {"campaign": str(self.delivery.campaign.public_id), "person": str(self.person_a.public_id)},
        )
        self.assertEqual(body["thanks"], "drill")
        self.delivery.refresh_from_db()
        self.assertIsNotNone(self.delivery.reported_at)
        self.assertEqual(len(mail.outbox), 1)

    def test_a_real_mail_goes_to_triage_with_its_indicators(self):
        response = self.post(suspicious_mail().as_bytes(), reporter="yamada@city-a.lg.jp")

        body = response.json()
        self.assertEqual(body["state"], "triage")
        self.assertEqual(body["urls"], ["https://evil-login.example/verify"])
        report = Report.objects.get(public_id=body["id"])
        self.assertEqual(report.channel, Report.Channel.API)
        self.assertEqual(report.organization, self.ward_a)

    def test_it_refuses_an_empty_body(self):
        response = self.post(b"  \r\n")

        self.assertEqual(response.status_code, 422)
        self.assertFalse(Report.objects.exists())

    @override_settings(UPLOAD_MAX_BYTES=1000)
    def test_it_refuses_a_mail_over_the_size_limit(self):
        response = self.post(b"Subject: x\r\n\r\n" + b"a" * 2000)

        self.assertEqual(response.status_code, 413)
        self.assertFalse(Report.objects.exists())

    def test_it_needs_a_token(self):
        response = self.client.generic("POST", URL, b"Subject: x\r\n\r\nx", content_type="message/rfc822")

        self.assertEqual(response.status_code, 401)

    def test_a_vendor_token_may_not_report(self):
        vendor = make_user("vendor", organization=self.ward_a, role=Membership.Role.VENDOR)
        _, token = APIToken.issue(user=vendor, organization=self.ward_a, name="vendor")

        response = self.post(suspicious_mail().as_bytes(), token=token)

        self.assertEqual(response.status_code, 403)

    def test_charlie_cannot_report_into_ward_a_or_match_its_drills(self):
        response = self.post(
            drill_mail(self.delivery).as_bytes(), token=self.charlie_token, reporter="yamada@city-a.lg.jp"
        )

        body = response.json()
        self.assertEqual(body["state"], "triage")
        self.assertIsNone(body["delivery"])
        self.assertEqual(Report.objects.get(public_id=body["id"]).organization, self.ward_b)
        self.delivery.refresh_from_db()
        self.assertIsNone(self.delivery.reported_at)
        self.assertEqual(mail.outbox, [])
