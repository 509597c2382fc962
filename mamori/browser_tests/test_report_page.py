"""Staff report in a real browser: from the teachable moment, from the ward's page with an .eml, a near miss."""

from django.core.cache import cache
from django.test import override_settings
from playwright.sync_api import expect

from mamori.browser_tests.base import BrowserTestCase
from mamori.core.tests.makers import make_department, make_organization, make_person
from mamori.drills.tests.tracking import make_running_campaign, make_sent_delivery
from mamori.reporting.models import IncidentReport, NearMiss, Report
from mamori.reporting.tests.test_report_page import LOCAL_CACHE

SUSPICIOUS_EML = (
    b"From: =?iso-2022-jp?b?GyRCQW1MMzJdGyhC?= <soumu@example-lookalike.jp>\r\n"
    b"To: yamada@city-a.lg.jp\r\n"
    b"Subject: =?iso-2022-jp?b?GyRCIVo7ajVeIVslUSU5JW8hPCVJJE5NLTh6NHw4QhsoQg==?=\r\n"
    b"Message-ID: <browser@example-lookalike.jp>\r\n"
    b"\r\n"
    b"https://login-example.com/reset\r\n"
)


@override_settings(CACHES=LOCAL_CACHE)
class ReportPageBrowserTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        cache.clear()
        self.addCleanup(cache.clear)
        self.ward_a = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        self.ward_a.report_contact = "情報政策課（内線 1234）"
        self.ward_a.save()
        make_organization("ward-b", "B区", domain="city-b.lg.jp")
        self.tax = make_department(self.ward_a, "区民部/税務課")
        self.yamada = make_person(
            self.ward_a, "山田 太郎", email="yamada@city-a.lg.jp", department=self.tax, name_kana="やまだ たろう"
        )

    def fill_5w1h(self) -> None:
        self.page.check("input[name=occurred_precision][value=hour]")
        self.page.fill("#id_occurred_at", "2026-11-24T10:00")
        self.page.fill("#id_where", "税務課の自席のパソコン")
        self.page.fill("#id_who", "私が")
        self.page.fill("#id_what", "請求書という件名のメールの添付ファイルを開いた")
        self.page.fill("#id_outcome", "何も表示されなかった")
        self.page.check("input[name=actions_taken][value=stopped]")
        self.page.check("input[name=actions_taken][value=kept_power]")

    def test_a_staff_member_reports_with_an_eml_from_the_wards_page(self):
        self.page.goto(self.url("/report/"))
        self.page.fill("#id_email", "yamada@city-a.lg.jp")
        with self.page.expect_navigation():
            self.page.click("#find-organization button[type=submit]")
        expect(self.page.locator("#rules")).to_contain_text("パソコンを再起動・シャットダウンしない")
        expect(self.page.locator("#report-contact")).to_have_text("情報政策課（内線 1234）")
        self.page.fill("#id_email", "yamada@city-a.lg.jp")
        self.fill_5w1h()
        self.page.set_input_files(
            "#id_eml_file", files=[{"name": "suspicious.eml", "mimeType": "message/rfc822", "buffer": SUSPICIOUS_EML}]
        )
        self.screenshot("report-page")
        with self.page.expect_navigation():
            self.page.click("#report-submit")
        expect(self.page.locator("#thanks-heading")).to_have_text("報告ありがとうございました")
        expect(self.page.locator("#thanks")).to_contain_text("情報システム課（CSIRT）が内容を確認し")
        report = IncidentReport.objects.get()
        self.assertEqual(report.reporter, self.yamada)
        self.assertEqual(report.filled_parts(), 6)
        self.assertEqual(report.suspicious_mail.channel, Report.Channel.PAGE)
        self.assertEqual(bytes(report.suspicious_mail.original.content), SUSPICIOUS_EML)
        self.assertEqual(self.console_errors, [])
        self.assert_no_csp_violations()

    def test_the_teachable_moments_report_button_leads_to_a_drill_thank_you(self):
        delivery = make_sent_delivery(make_running_campaign(self.ward_a), self.yamada)
        self.page.goto(self.url(f"/l/{delivery.token}/"))
        with self.page.expect_navigation():
            self.page.click("#report-now")
        expect(self.page.locator("#reporter")).to_have_text("山田 太郎 さんとして報告します。")
        expect(self.page.locator("#id_email")).to_have_count(0)
        self.fill_5w1h()
        with self.page.expect_navigation():
            self.page.click("#report-submit")
        expect(self.page.locator("#thanks")).to_contain_text("これは訓練のメールでした。")
        delivery.refresh_from_db()
        self.assertIsNotNone(delivery.reported_at)
        self.assert_no_csp_violations()

    def test_a_missing_date_is_explained_and_the_form_keeps_what_was_typed(self):
        self.page.goto(self.url("/report/ward-a/"))
        self.page.fill("#id_email", "yamada@city-a.lg.jp")
        self.page.fill("#id_where", "自席")
        with self.page.expect_navigation():
            self.page.click("#report-submit")
        expect(self.page.locator("#form-error")).to_be_visible()
        expect(self.page.locator("text=日時を入力するか、「分からない」を選んでください。")).to_be_visible()
        expect(self.page.locator("#id_where")).to_have_value("自席")
        self.assertFalse(IncidentReport.objects.exists())

    def test_an_anonymous_near_miss(self):
        self.page.goto(self.url("/report/ward-a/"))
        with self.page.expect_navigation():
            self.page.click("#near-miss-link")
        self.page.check("input[name=kind][value=wrong_recipient]")
        self.page.fill("#id_description", "FAXの宛先を一桁間違えそうになった")
        self.page.select_option("#id_department", label="区民部 › 税務課")
        with self.page.expect_navigation():
            self.page.click("#near-miss-submit")
        expect(self.page.locator("#thanks-heading")).to_have_text("共有ありがとうございました")
        near_miss = NearMiss.objects.get()
        self.assertTrue(near_miss.anonymous)
        self.assertIsNone(near_miss.reporter)
        self.assertEqual(near_miss.department, self.tax)
        self.assert_no_csp_violations()
