"""The staff report page: guidance before the form, identification, the 5W1H report, the suspicious mail."""

import datetime
from unittest import mock

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_person
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.models import IncidentReport, Report
from mamori.reporting.personal_links import personal_link_token

# As a mail client's "show source" gives it: encoded headers (【至急】パスワードの有効期限 in ISO-2022-JP).
PASTED_MAIL = (
    "From: =?iso-2022-jp?b?GyRCQW1MMzJdGyhC?= <soumu@example-lookalike.jp>\n"
    "To: yamada@city-a.lg.jp\n"
    "Subject: =?iso-2022-jp?b?GyRCIVo7ajVeIVslUSU5JW8hPCVJJE5NLTh6NHw4QhsoQg==?=\n"
    "Message-ID: <abc@example-lookalike.jp>\n"
    "\n"
    "こちらから更新してください: hxxps://login-example[.]com/reset\n"
)


def report_fields(**overrides) -> dict:
    fields = {
        "occurred_precision": "hour",
        "occurred_at": "2026-11-24T10:00",
        "where": "税務課の自席のパソコン",
        "who": "私が",
        "what": "請求書という件名のメールの添付ファイルを開いた",
        "outcome": "何も表示されなかった",
        "actions_taken": ["stopped", "kept_power"],
        "actions_note": "",
        "pasted_mail": "",
    }
    fields.update(overrides)
    return fields


# A cache of this test process only: the default file cache is shared with whatever else runs on the machine.
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@override_settings(CACHES=LOCAL_CACHE)
class ReportPageTestCase(BaseTestCase):
    def setUp(self):
        cache.clear()
        self.addCleanup(cache.clear)

    def organization_url(self, organization=None) -> str:
        return reverse("reporting:report-organization", args=[(organization or self.ward_a).code])

    def thanks_url(self, kind: str, organization=None) -> str:
        return reverse("reporting:report-thanks", args=[(organization or self.ward_a).code, kind])


class GuidanceTests(ReportPageTestCase):
    def test_it_shows_the_first_five_minutes_before_the_form(self):
        response = self.client.get(self.organization_url())
        self.assertEqual(response.status_code, 200)
        text = response.content.decode()
        self.assertContains(response, "パソコンを再起動・シャットダウンしない")
        self.assertContains(response, "上司または情報システム部門")
        self.assertLess(text.index('id="first-response"'), text.index('id="report-form"'))
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_it_shows_the_wards_own_rules_and_contact(self):
        self.ward_a.first_response_rules = "すぐにLANケーブルを抜く\n情報政策課へ電話する"
        self.ward_a.report_contact = "情報政策課（内線 1234）"
        self.ward_a.save()
        response = self.client.get(self.organization_url())
        self.assertContains(response, "すぐにLANケーブルを抜く")
        self.assertContains(response, "情報政策課（内線 1234）")
        self.assertNotContains(response, "パソコンを再起動・シャットダウンしない")

    def test_it_asks_for_the_work_email_without_a_link(self):
        response = self.client.get(self.organization_url())
        self.assertContains(response, 'name="email"')
        self.assertContains(response, "csrfmiddlewaretoken")

    def test_it_answers_404_for_an_unknown_organization_code(self):
        self.assertEqual(self.client.get("/report/no-such-ward/").status_code, 404)

    def test_it_finds_the_organization_from_the_work_email_without_listing_any(self):
        page = self.client.get(reverse("reporting:report"))
        self.assertNotContains(page, "A区")
        self.assertNotContains(page, self.organization_url())
        response = self.client.post(reverse("reporting:report"), {"email": "someone@City-A.lg.jp"})
        self.assertRedirects(response, self.organization_url())

    def test_an_unverified_domain_finds_nothing(self):
        self.ward_a.domains.create(domain="unverified-a.example.jp")
        response = self.client.post(reverse("reporting:report"), {"email": "someone@unverified-a.example.jp"})
        self.assertContains(response, "このアドレスの組織は見つかりませんでした。")

    def test_an_unknown_domain_is_explained(self):
        response = self.client.post(reverse("reporting:report"), {"email": "someone@example.com"})
        self.assertContains(response, "このアドレスの組織は見つかりませんでした。")

    def test_it_goes_straight_to_the_only_organization(self):
        self.ward_b.domains.all().delete()
        response = self.client.get(reverse("reporting:report"))
        self.assertRedirects(response, self.organization_url())

    def test_an_unknown_token_gets_the_search_by_email(self):
        response = self.client.get(reverse("reporting:report") + "?token=AAAAAAAAAAAAAAAAAAAAAA")
        self.assertContains(response, 'id="find-organization"')
        self.assertNotContains(response, 'id="report-form"')


class EmailIdentificationTests(ReportPageTestCase):
    def test_a_roster_address_identifies_the_reporter(self):
        response = self.client.post(self.organization_url(), report_fields(email="Yamada@City-A.lg.jp"))
        self.assertRedirects(response, self.thanks_url("received"))
        report = IncidentReport.objects.get()
        self.assertEqual(report.organization, self.ward_a)
        self.assertEqual(report.reporter, self.person_a)
        self.assertEqual(report.department, self.general_affairs)
        self.assertEqual(report.identified_by, IncidentReport.Identification.ROSTER_EMAIL)
        self.assertEqual(report.occurred_precision, "hour")
        self.assertEqual(report.occurred_at, datetime.datetime(2026, 11, 24, 1, 0, tzinfo=datetime.UTC))
        self.assertEqual(report.actions_taken, ["stopped", "kept_power"])
        self.assertEqual(report.filled_parts(), 6)

    def test_an_unknown_address_gets_the_same_thank_you_and_is_kept_unverified(self):
        known = self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp"))
        unknown = self.client.post(self.organization_url(), report_fields(email="nobody@city-a.lg.jp"))
        self.assertEqual(known["Location"], unknown["Location"])
        report = IncidentReport.objects.get(reporter_email="nobody@city-a.lg.jp")
        self.assertIsNone(report.reporter)
        self.assertEqual(report.identified_by, IncidentReport.Identification.UNVERIFIED)

    def test_charlies_ward_staff_are_not_found_in_ward_a(self):
        self.client.post(self.organization_url(), report_fields(email="suzuki@city-b.lg.jp"))
        report = IncidentReport.objects.get()
        self.assertEqual(report.organization, self.ward_a)
        self.assertIsNone(report.reporter)
        self.assertEqual(report.identified_by, IncidentReport.Identification.UNVERIFIED)

    def test_an_inactive_person_is_unverified(self):
        self.person_a.active = False
        self.person_a.save()
        self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp"))
        self.assertIsNone(IncidentReport.objects.get().reporter)

    def test_the_email_is_required(self):
        response = self.client.post(self.organization_url(), report_fields())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "入力内容を確認してください。")
        self.assertFalse(IncidentReport.objects.exists())

    def test_a_known_time_needs_a_date(self):
        response = self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp", occurred_at=""))
        self.assertContains(response, "日時を入力するか、「分からない」を選んでください。")

    def test_an_unknown_time_is_stored_without_a_date(self):
        self.client.post(
            self.organization_url(), report_fields(email="yamada@city-a.lg.jp", occurred_precision="unknown")
        )
        report = IncidentReport.objects.get()
        self.assertIsNone(report.occurred_at)
        self.assertEqual(report.filled_parts(), 5)

    def test_a_future_time_is_refused(self):
        future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        response = self.client.post(
            self.organization_url(), report_fields(email="yamada@city-a.lg.jp", occurred_at=future)
        )
        self.assertContains(response, "未来の日時は入力できません。")

    def test_an_empty_report_is_still_accepted(self):
        response = self.client.post(
            self.organization_url(), {"email": "yamada@city-a.lg.jp", "occurred_precision": "unknown"}
        )
        self.assertRedirects(response, self.thanks_url("received"))
        self.assertEqual(IncidentReport.objects.get().filled_parts(), 0)


class LinkIdentificationTests(ReportPageTestCase):
    def test_the_teachable_moments_link_names_the_recipient_and_the_drill(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        url = reverse("reporting:report") + f"?token={delivery.token}"
        page = self.client.get(url)
        self.assertContains(page, "山田 太郎 さんとして報告します。")
        self.assertNotContains(page, 'name="email"')
        response = self.client.post(url, report_fields())
        self.assertRedirects(response, self.thanks_url("drill"))
        report = IncidentReport.objects.get()
        self.assertEqual(report.delivery, delivery)
        self.assertEqual(report.reporter, self.person_a)
        self.assertEqual(report.identified_by, IncidentReport.Identification.DELIVERY_LINK)
        delivery.refresh_from_db()
        self.assertEqual(delivery.reported_at, report.submitted_at)

    def test_a_report_after_a_click_gets_the_clicked_thanks(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        delivery.first_clicked_at = timezone.now() - datetime.timedelta(minutes=10)
        delivery.save()
        response = self.client.post(reverse("reporting:report") + f"?token={delivery.token}", report_fields())
        self.assertRedirects(response, self.thanks_url("clicked_drill"))

    def test_the_first_report_time_is_kept(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        first = timezone.now() - datetime.timedelta(minutes=30)
        delivery.reported_at = first
        delivery.save()
        self.client.post(reverse("reporting:report") + f"?token={delivery.token}", report_fields())
        delivery.refresh_from_db()
        self.assertEqual(delivery.reported_at, first)

    def test_a_personal_link_identifies_the_person(self):
        url = reverse("reporting:report-personal", args=[personal_link_token(self.person_a)])
        self.assertContains(self.client.get(url), "山田 太郎 さんとして報告します。")
        response = self.client.post(url, report_fields())
        self.assertRedirects(response, self.thanks_url("received"))
        report = IncidentReport.objects.get()
        self.assertEqual(report.reporter, self.person_a)
        self.assertEqual(report.identified_by, IncidentReport.Identification.PERSONAL_LINK)

    def test_a_tampered_personal_link_is_404(self):
        token = personal_link_token(self.person_a)
        self.assertEqual(
            self.client.get(reverse("reporting:report-personal", args=[token[:-2] + "xx"])).status_code, 404
        )
        self.assertEqual(self.client.get(reverse("reporting:report-personal", args=["garbage"])).status_code, 404)

    def test_a_personal_link_of_someone_who_left_is_404(self):
        token = personal_link_token(self.person_a)
        self.person_a.active = False
        self.person_a.save()
        self.assertEqual(self.client.get(reverse("reporting:report-personal", args=[token])).status_code, 404)

    def test_ward_bs_personal_link_files_in_ward_b_only(self):
        url = reverse("reporting:report-personal", args=[personal_link_token(self.person_b)])
        response = self.client.post(url, report_fields())
        self.assertRedirects(response, self.thanks_url("received", self.ward_b))
        self.assertEqual(IncidentReport.objects.get().organization, self.ward_b)


class SuspiciousMailTests(ReportPageTestCase):
    def test_a_pasted_mail_goes_through_the_ingest_path(self):
        self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp", pasted_mail=PASTED_MAIL))
        report = IncidentReport.objects.get()
        mail = report.suspicious_mail
        self.assertEqual(mail.channel, Report.Channel.PAGE)
        self.assertEqual(mail.organization, self.ward_a)
        self.assertEqual(mail.reporter, self.person_a)
        self.assertIn("パスワードの有効期限", mail.subject)
        self.assertEqual(bytes(mail.original.content), PASTED_MAIL.strip().encode())

    def test_an_uploaded_eml_goes_through_the_ingest_path(self):
        upload = SimpleUploadedFile("suspicious.eml", PASTED_MAIL.encode("iso-2022-jp", "replace"), "message/rfc822")
        self.client.post(self.organization_url(), {**report_fields(email="yamada@city-a.lg.jp"), "eml_file": upload})
        self.assertEqual(IncidentReport.objects.get().suspicious_mail.channel, Report.Channel.PAGE)

    @override_settings(UPLOAD_MAX_BYTES=1024 * 1024)
    def test_an_oversize_eml_gets_a_clear_message(self):
        upload = SimpleUploadedFile("big.eml", b"x" * (1024 * 1024 + 1), "message/rfc822")
        response = self.client.post(
            self.organization_url(), {**report_fields(email="yamada@city-a.lg.jp"), "eml_file": upload}
        )
        self.assertContains(response, ".eml ファイルが大きすぎます（1.0 MB、上限 1 MB）")
        self.assertFalse(Report.objects.exists())
        self.assertFalse(IncidentReport.objects.exists())

    def test_a_drill_mail_pasted_by_its_recipient_is_thanked_as_a_drill(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        pasted = PASTED_MAIL + f"https://drill.example/c/{delivery.token}\n"
        with override_settings(DRILL_BASE_URL="https://drill.example"):
            response = self.client.post(
                self.organization_url(), report_fields(email="yamada@city-a.lg.jp", pasted_mail=pasted)
            )
        self.assertRedirects(response, self.thanks_url("drill"))
        self.assertEqual(IncidentReport.objects.get().suspicious_mail.delivery, delivery)

    def test_a_drill_mail_pasted_by_someone_else_gets_the_ordinary_thank_you(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.person_a)
        pasted = PASTED_MAIL + f"https://drill.example/c/{delivery.token}\n"
        with override_settings(DRILL_BASE_URL="https://drill.example"):
            response = self.client.post(
                self.organization_url(), report_fields(email="stranger@example.com", pasted_mail=pasted)
            )
        self.assertRedirects(response, self.thanks_url("received"))


class AbuseTests(ReportPageTestCase):
    def test_it_refuses_a_post_without_the_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp"))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(IncidentReport.objects.exists())

    def test_it_limits_submissions_per_client_address(self):
        # One window for the whole test (a window boundary between the posts would reset the count).
        with (
            mock.patch("mamori.reporting.staff_reports.RATE_LIMIT_SUBMISSIONS", 2),
            mock.patch("mamori.reporting.staff_reports.RATE_LIMIT_WINDOW_SECONDS", 10**9),
        ):
            for _ in range(2):
                self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp"))
            response = self.client.post(self.organization_url(), report_fields(email="yamada@city-a.lg.jp"))
            self.assertContains(response, "受け付けを一時的に止めています", status_code=429)
            other = self.client.post(
                self.organization_url(), report_fields(email="yamada@city-a.lg.jp"), REMOTE_ADDR="192.0.2.9"
            )
        self.assertEqual(other.status_code, 302)
        self.assertEqual(IncidentReport.objects.count(), 3)
        self.assertEqual(
            set(IncidentReport.objects.values_list("client_address", flat=True)), {"127.0.0.1", "192.0.2.9"}
        )


class ThanksPageTests(ReportPageTestCase):
    def test_the_ordinary_thank_you_says_the_csirt_will_look(self):
        response = self.client.get(self.thanks_url("received"))
        self.assertContains(response, "報告ありがとうございました")
        self.assertContains(response, "情報システム課（CSIRT）が内容を確認し")
        self.assertContains(response, "開いてしまった・入力してしまった後の報告も、同じように大切です。")
        self.assertNotContains(response, "訓練")

    def test_the_drill_thank_you_says_it_was_a_drill(self):
        response = self.client.get(self.thanks_url("drill"))
        self.assertContains(response, "これは訓練のメールでした。実際の被害はありません。")
        self.assertContains(response, "本物の攻撃のときも、今日と同じように報告してください。")

    def test_the_clicked_drill_thank_you_is_as_warm(self):
        response = self.client.get(self.thanks_url("clicked_drill"))
        self.assertContains(response, "開いてしまった後でも、すぐに報告してくださったことが何より大切です。")

    def test_the_near_miss_thank_you(self):
        response = self.client.get(self.thanks_url("near_miss"))
        self.assertContains(response, "共有ありがとうございました")

    def test_an_unknown_kind_or_organization_is_404(self):
        self.assertEqual(self.client.get(self.thanks_url("secret")).status_code, 404)
        self.assertEqual(self.client.get("/report/no-such-ward/thanks/received/").status_code, 404)

    def test_a_partner_without_staff_has_no_report_page(self):
        from mamori.core.tests.makers import make_organization

        partner = make_organization("police", "警視庁", kind="partner", domain="police.example.jp")
        make_person(partner, "警察 一郎")
        self.assertEqual(self.client.get(self.organization_url(partner)).status_code, 404)
