"""The KPI dashboard in a browser: figures and traffic lights, charts loaded as images, the year selector."""

from playwright.sync_api import expect

from mamori.browser_tests.base import BrowserTestCase
from mamori.browser_tests.test_drill_events_results import DESKTOP, PHONE, save_full_page, signed_in_cookie
from mamori.core.models import Membership
from mamori.core.tests.makers import make_department, make_organization, make_user
from mamori.drills.fiscal import current_fiscal_year
from mamori.metrics import rollups
from mamori.metrics.tests.test_views import REPORT_TARGET, drill_staff, run_round

# True when every chart image on the page has loaded and has a size (a broken data: URL has none).
CHARTS_LOADED = """() => {
  const charts = Array.from(document.querySelectorAll("img.trend-chart, img.comparison-chart"));
  return charts.length > 0 && charts.every((image) => image.complete && image.naturalWidth > 0);
}"""


class MetricsPagesTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        ward = make_organization("ward-a", "A区", domain="city-a.lg.jp")
        self.alice = make_user("alice", organization=ward, role=Membership.Role.SECURITY_ADMIN)
        departments = [make_department(ward, "総務部/総務課"), make_department(ward, "区民部/税務課")]
        people = drill_staff(ward, departments, per_department=6)
        # This fiscal year's rounds, so that the selector (this year, the last one, years with data) offers both.
        self.year = current_fiscal_year()
        for round_number in (1, 2, 3):
            run_round(ward, round_number, people, fiscal_year=self.year)
        rollups.refresh_organization(ward, self.year)
        self.context.add_cookies([signed_in_cookie(self.alice, self.live_server_url)])

    def test_an_admin_reads_the_dashboard_and_changes_the_fiscal_year(self):
        for name, viewport in (("metrics-desktop", DESKTOP), ("metrics-phone", PHONE)):
            self.page.set_viewport_size(viewport)
            self.page.goto(self.url(f"/metrics/?fy={self.year}"))
            expect(self.page.locator("h1")).to_contain_text(f"区の指標 — {self.year}年度")
            card = self.page.locator("[data-kpi=report_rate_1h]")
            expect(card).to_contain_text("50.0%")
            expect(card.locator(".traffic-light")).to_contain_text("あと一歩")
            self.page.wait_for_function(CHARTS_LOADED)
            save_full_page(self.page, name)
        self.page.set_viewport_size(DESKTOP)
        self.assertGreaterEqual(self.page.locator("img.trend-chart").count(), 3)
        expect(self.page.locator("img.trend-chart").first).to_have_attribute(
            "alt",
            f"1時間以内の報告率の推移: {self.year}年度 第1回 50.0%、{self.year}年度 第2回 50.0%、"
            f"{self.year}年度 第3回 50.0%（目標 {REPORT_TARGET}）",
        )

        self.page.select_option("#fiscal-year", str(self.year - 1))
        with self.page.expect_navigation():
            self.page.click(".period-form button[type=submit]")
        self.assertIn(f"fy={self.year - 1}", self.page.url)
        expect(self.page.locator("h1")).to_contain_text(f"{self.year - 1}年度")
        expect(self.page.locator("main")).to_contain_text("この年度に配信した訓練はまだありません")

        self.page.select_option("#fiscal-year", str(self.year))
        with self.page.expect_navigation():
            self.page.click(".period-form button[type=submit]")
        with self.page.expect_navigation():
            self.page.click("text=今すぐ再集計")
        expect(self.page.locator(".messages")).to_contain_text(f"{self.year}年度の数値を再集計しました。")
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])

    def test_the_ranking_and_a_department_show_their_charts(self):
        self.page.set_viewport_size(DESKTOP)
        self.page.goto(self.url(f"/metrics/ranking/?fy={self.year}"))
        expect(self.page.locator("table.ranking")).to_contain_text("1位")
        self.page.wait_for_function(CHARTS_LOADED)
        save_full_page(self.page, "metrics-ranking")

        self.page.goto(self.url(f"/metrics/?fy={self.year}"))
        with self.page.expect_navigation():
            self.page.click("table.breakdown >> text=税務課")
        expect(self.page.locator("h1")).to_contain_text("所属の指標 — 区民部 › 税務課")
        self.page.wait_for_function(CHARTS_LOADED)
        save_full_page(self.page, "metrics-department")
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])


class JointPageTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        joint_body = make_organization("joint-csirt", "特別区共同CSIRT", kind="joint")
        self.joint_admin = make_user("joanna", organization=joint_body, role=Membership.Role.JOINT_ADMIN)
        for number in range(4):
            ward = make_organization(f"ward-{number}", f"第{number}区")
            people = drill_staff(ward, [make_department(ward, "総務部")], per_department=5 + number)
            for round_number in (1, 2):
                run_round(ward, round_number, people)
            rollups.refresh_organization(ward, 2026)
        self.context.add_cookies([signed_in_cookie(self.joint_admin, self.live_server_url)])

    def test_a_joint_admin_compares_the_wards_without_their_names(self):
        self.page.set_viewport_size(DESKTOP)
        self.page.goto(self.url("/metrics/joint/?fy=2026"))
        expect(self.page.locator("table.joint tfoot")).to_contain_text("平均（データのある 4 区）")
        self.page.wait_for_function(CHARTS_LOADED)
        self.assertNotIn("第0区", self.page.content())
        save_full_page(self.page, "metrics-joint")
        self.assert_no_csp_violations()
        self.assertEqual(self.console_errors, [])
